/*
 * <iostream>'s static initialiser.
 *
 * Every translation unit that includes <iostream> holds a static
 * std::ios_base::Init, whose constructor would build std::cout and its
 * kin.  Secrecy includes <iostream> through its planner headers but prints
 * with printf only, and the kernel has no locale or stream buffers, so the
 * streams are never built: Init is served, and does nothing.  A program
 * that writes to std::cout would fail to link (its stream objects are not
 * defined here), rather than fail at run time.
 */
#include <ios>

std::ios_base::Init::Init() {}

std::ios_base::Init::~Init() {}
