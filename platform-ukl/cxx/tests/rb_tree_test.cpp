/*
 * The red-black tree steps of src/rb_tree.cpp, on the host: this program
 * defines them itself, so its std::set and std::map (libstdc++'s own
 * templates) run on them instead of libstdc++.so's.  Random inserts and
 * erases are checked against a sorted model, and after each step the tree
 * must be a valid red-black tree with a consistent header.
 */
#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <vector>

static int failures;
static int checks;

static void check(bool ok, const char *what, long step)
{
    checks++;
    if (!ok) {
        failures++;
        if (failures <= 10)
            std::printf("FAIL: %s (step %ld)\n", what, step);
    }
}

using Node = std::_Rb_tree_node_base;

/* Black height of the subtree at x, or -1 if it breaks a rule. */
static int black_height(const Node *x, const Node *parent)
{
    if (!x)
        return 1;
    if (x->_M_parent != parent)
        return -1;
    if (x->_M_color == std::_S_red &&
        ((x->_M_left && x->_M_left->_M_color == std::_S_red) ||
         (x->_M_right && x->_M_right->_M_color == std::_S_red)))
        return -1;
    int left = black_height(x->_M_left, x);
    int right = black_height(x->_M_right, x);
    if (left < 0 || left != right)
        return -1;
    return left + (x->_M_color == std::_S_black);
}

template <typename Set>
static void check_tree(const Set &set, const std::vector<int> &model, long step)
{
    /* libstdc++'s _Rb_tree keeps its header right after the comparator. */
    const Node *header = set.end()._M_node;
    const Node *root = header->_M_parent;
    check(black_height(root, header) > 0, "red-black rules and parent links", step);
    check(!root || root->_M_color == std::_S_black, "the root is black", step);
    check(header->_M_color == std::_S_red, "the header is red", step);
    if (model.empty()) {
        check(!root && header->_M_left == header && header->_M_right == header,
              "an empty tree's header points at itself", step);
        return;
    }
    check(header->_M_left == set.begin()._M_node, "header's left is the first node", step);
    check(std::vector<int>(set.begin(), set.end()) == model, "in order, the model's elements", step);
    check(std::vector<int>(set.rbegin(), set.rend()) == std::vector<int>(model.rbegin(), model.rend()),
          "in reverse order (decrement from end), the model's elements reversed", step);
}

int main()
{
    std::mt19937 generator(2026);
    for (int round = 0; round < 40; round++) {
        std::set<int> set;
        std::vector<int> model;
        int range = round < 20 ? 64 : 4096;
        for (long step = 0; step < 2000; step++) {
            int value = static_cast<int>(generator() % range);
            auto at = std::lower_bound(model.begin(), model.end(), value);
            bool present = at != model.end() && *at == value;
            if (generator() % 3 != 0) {
                check(set.insert(value).second == !present, "insert reports a new element", step);
                if (!present)
                    model.insert(at, value);
            } else {
                check(set.erase(value) == (present ? 1u : 0u), "erase reports what it removed", step);
                if (present)
                    model.erase(at);
            }
            if (step % 16 == 0 || round == 0)
                check_tree(set, model, step);
        }
        while (!set.empty()) {
            /* Erase through iterators too, from both ends and the middle. */
            auto it = set.begin();
            std::advance(it, static_cast<long>(generator() % set.size()));
            model.erase(std::lower_bound(model.begin(), model.end(), *it));
            set.erase(it);
            check_tree(set, model, -1);
        }
    }

    /* std::map, as Secrecy's planner headers use it, with string keys. */
    std::map<std::string, int> names;
    for (int i = 0; i < 1000; i++)
        names["key" + std::to_string((i * 7919) % 1000)] = i;
    int counted = 0;
    std::string previous;
    for (const auto &entry : names) {
        check(counted == 0 || previous < entry.first, "map keys in order", counted);
        previous = entry.first;
        counted++;
    }
    check(counted == 1000 && names.count("key999") == 1, "a map of 1000 string keys", 0);

    std::printf("rb_tree_test: %d passed, %d failed\n", checks - failures, failures);
    return failures != 0;
}
