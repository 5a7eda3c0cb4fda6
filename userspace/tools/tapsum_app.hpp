// SPDX-License-Identifier: GPL-2.0
//
// tapsum's whole program as a function, so tests can run it with their own
// argument list and streams. tapsum.cpp only forwards main() to it.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace xsel::tapsum {

// args excludes the program name. Returns the exit status:
// 0 all passed, 1 failures, 2 usage/IO/parse errors.
int run(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
        std::ostream& err);

}  // namespace xsel::tapsum
