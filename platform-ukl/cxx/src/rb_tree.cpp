/*
 * The red-black tree steps under std::map and std::set.
 *
 * libstdc++ keeps these four functions out of its headers (the tree's
 * templates call them through the node-base type) and compiles them into
 * libstdc++.so, which the kernel cannot link: it is built with the red zone
 * and SSE.  This is an implementation of the textbook algorithm (Cormen et
 * al., chapter 13) on libstdc++'s node layout: a header node whose parent is
 * the root, whose left and right are the leftmost and rightmost nodes, and
 * which is red, so that it can be told from the root.
 *
 * tests/rb_tree_test.cpp checks it against std::map on the host, where the
 * program's definitions take the place of libstdc++.so's.
 */
#include <bits/stl_tree.h>

namespace std {
namespace {

using Node = _Rb_tree_node_base;

Node *leftmost_below(Node *x)
{
    while (x->_M_left)
        x = x->_M_left;
    return x;
}

Node *rightmost_below(Node *x)
{
    while (x->_M_right)
        x = x->_M_right;
    return x;
}

/* The header is the only red node whose grandparent is itself. */
bool is_header(const Node *x)
{
    return x->_M_color == _S_red && x->_M_parent->_M_parent == x;
}

/* Replaces old_child by new_child under old_child's parent. */
void replace_child(Node *old_child, Node *new_child, Node *&root)
{
    Node *parent = old_child->_M_parent;
    if (old_child == root)
        root = new_child;
    else if (old_child == parent->_M_left)
        parent->_M_left = new_child;
    else
        parent->_M_right = new_child;
    if (new_child)
        new_child->_M_parent = parent;
}

void rotate_left(Node *x, Node *&root)
{
    Node *y = x->_M_right;
    x->_M_right = y->_M_left;
    if (y->_M_left)
        y->_M_left->_M_parent = x;
    replace_child(x, y, root);
    y->_M_left = x;
    x->_M_parent = y;
}

void rotate_right(Node *x, Node *&root)
{
    Node *y = x->_M_left;
    x->_M_left = y->_M_right;
    if (y->_M_right)
        y->_M_right->_M_parent = x;
    replace_child(x, y, root);
    y->_M_right = x;
    x->_M_parent = y;
}

bool is_black(const Node *x)
{
    return !x || x->_M_color == _S_black;
}

} // namespace

Node *_Rb_tree_increment(Node *x) throw()
{
    if (x->_M_right)
        return leftmost_below(x->_M_right);
    Node *parent = x->_M_parent;
    while (x == parent->_M_right) {
        x = parent;
        parent = parent->_M_parent;
    }
    /* From the rightmost node of a one-node tree, x climbs to the header
     * and parent back to the root: the successor is then x, the header. */
    return x->_M_right == parent ? x : parent;
}

const Node *_Rb_tree_increment(const Node *x) throw()
{
    return _Rb_tree_increment(const_cast<Node *>(x));
}

Node *_Rb_tree_decrement(Node *x) throw()
{
    if (is_header(x))
        return x->_M_right; /* end() steps back to the rightmost node */
    if (x->_M_left)
        return rightmost_below(x->_M_left);
    Node *parent = x->_M_parent;
    while (x == parent->_M_left) {
        x = parent;
        parent = parent->_M_parent;
    }
    return parent;
}

const Node *_Rb_tree_decrement(const Node *x) throw()
{
    return _Rb_tree_decrement(const_cast<Node *>(x));
}

void _Rb_tree_insert_and_rebalance(const bool insert_left, Node *x, Node *p, Node &header) throw()
{
    Node *&root = header._M_parent;
    x->_M_parent = p;
    x->_M_left = nullptr;
    x->_M_right = nullptr;
    x->_M_color = _S_red;
    if (insert_left) {
        p->_M_left = x; /* for an empty tree p is the header: leftmost */
        if (p == &header) {
            root = x;
            header._M_right = x;
        } else if (p == header._M_left) {
            header._M_left = x;
        }
    } else {
        p->_M_right = x;
        if (p == header._M_right)
            header._M_right = x;
    }

    /* Restore "no red node has a red child"; x is red throughout. */
    while (x != root && x->_M_parent->_M_color == _S_red) {
        Node *parent = x->_M_parent;
        Node *grandparent = parent->_M_parent;
        if (parent == grandparent->_M_left) {
            Node *uncle = grandparent->_M_right;
            if (!is_black(uncle)) {
                parent->_M_color = _S_black;
                uncle->_M_color = _S_black;
                grandparent->_M_color = _S_red;
                x = grandparent;
                continue;
            }
            if (x == parent->_M_right) {
                rotate_left(parent, root);
                x = parent;
                parent = x->_M_parent;
            }
            parent->_M_color = _S_black;
            grandparent->_M_color = _S_red;
            rotate_right(grandparent, root);
        } else {
            Node *uncle = grandparent->_M_left;
            if (!is_black(uncle)) {
                parent->_M_color = _S_black;
                uncle->_M_color = _S_black;
                grandparent->_M_color = _S_red;
                x = grandparent;
                continue;
            }
            if (x == parent->_M_left) {
                rotate_right(parent, root);
                x = parent;
                parent = x->_M_parent;
            }
            parent->_M_color = _S_black;
            grandparent->_M_color = _S_red;
            rotate_left(grandparent, root);
        }
    }
    root->_M_color = _S_black;
}

Node *_Rb_tree_rebalance_for_erase(Node *const z, Node &header) throw()
{
    Node *&root = header._M_parent;
    /* Keep header's leftmost and rightmost right before unlinking z. */
    if (z == header._M_left)
        header._M_left = z->_M_right ? leftmost_below(z->_M_right) : z->_M_parent;
    if (z == header._M_right)
        header._M_right = z->_M_left ? rightmost_below(z->_M_left) : z->_M_parent;

    /* x takes the place of the node that leaves its position; x_parent is
     * its parent afterwards (x may be null). */
    Node *x;
    Node *x_parent;
    _Rb_tree_color removed_color;
    if (!z->_M_left || !z->_M_right) {
        x = z->_M_left ? z->_M_left : z->_M_right;
        x_parent = z->_M_parent;
        removed_color = z->_M_color;
        replace_child(z, x, root);
    } else {
        /* Two children: z's successor y (leftmost of its right subtree)
         * moves into z's place and colour; y's own place is what empties. */
        Node *y = leftmost_below(z->_M_right);
        removed_color = y->_M_color;
        x = y->_M_right;
        if (y->_M_parent == z) {
            x_parent = y;
        } else {
            x_parent = y->_M_parent;
            replace_child(y, x, root);
            y->_M_right = z->_M_right;
            y->_M_right->_M_parent = y;
        }
        replace_child(z, y, root);
        y->_M_left = z->_M_left;
        y->_M_left->_M_parent = y;
        y->_M_color = z->_M_color;
    }
    if (root == nullptr) {
        header._M_left = &header;
        header._M_right = &header;
    }
    if (removed_color == _S_red)
        return z;

    /* A black node left: x carries an extra black until it is absorbed. */
    while (x != root && is_black(x)) {
        if (x == x_parent->_M_left) {
            Node *w = x_parent->_M_right;
            if (w->_M_color == _S_red) {
                w->_M_color = _S_black;
                x_parent->_M_color = _S_red;
                rotate_left(x_parent, root);
                w = x_parent->_M_right;
            }
            if (is_black(w->_M_left) && is_black(w->_M_right)) {
                w->_M_color = _S_red;
                x = x_parent;
                x_parent = x_parent->_M_parent;
                continue;
            }
            if (is_black(w->_M_right)) {
                w->_M_left->_M_color = _S_black;
                w->_M_color = _S_red;
                rotate_right(w, root);
                w = x_parent->_M_right;
            }
            w->_M_color = x_parent->_M_color;
            x_parent->_M_color = _S_black;
            w->_M_right->_M_color = _S_black;
            rotate_left(x_parent, root);
        } else {
            Node *w = x_parent->_M_left;
            if (w->_M_color == _S_red) {
                w->_M_color = _S_black;
                x_parent->_M_color = _S_red;
                rotate_right(x_parent, root);
                w = x_parent->_M_left;
            }
            if (is_black(w->_M_right) && is_black(w->_M_left)) {
                w->_M_color = _S_red;
                x = x_parent;
                x_parent = x_parent->_M_parent;
                continue;
            }
            if (is_black(w->_M_left)) {
                w->_M_right->_M_color = _S_black;
                w->_M_color = _S_red;
                rotate_left(w, root);
                w = x_parent->_M_left;
            }
            w->_M_color = x_parent->_M_color;
            x_parent->_M_color = _S_black;
            w->_M_left->_M_color = _S_black;
            rotate_right(x_parent, root);
        }
        x = root;
    }
    if (x)
        x->_M_color = _S_black;
    return z;
}

} // namespace std
