// SPDX-License-Identifier: GPL-2.0
//
// tapsum: summarise ctest logs and framed kselftest streams.
// See `tapsum --help`; the logic lives in tapsum_app.cpp and xcommon/tap.
#include <iostream>
#include <string>
#include <vector>

#include "tapsum_app.hpp"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    return xsel::tapsum::run(args, std::cin, std::cout, std::cerr);
  } catch (const std::exception& e) {
    std::cerr << "tapsum: error: " << e.what() << '\n';
    return 2;
  }
}
