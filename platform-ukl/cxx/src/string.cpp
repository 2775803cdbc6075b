/*
 * std::string's out-of-line members.
 *
 * libstdc++ declares basic_string<char> an extern template (its config
 * header turns that on for every program) and ships the instantiation in
 * libstdc++.so; here it is instantiated once, for the image, from the
 * headers' own definitions.
 */
#include <string>

template class std::basic_string<char>;
