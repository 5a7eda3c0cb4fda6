// SPDX-License-Identifier: GPL-2.0
//
// A scope guard: runs an undo action at scope exit unless dismissed. The
// tools use it so that a failed attach leaves the system as it was.
#pragma once

#include <functional>
#include <utility>

namespace xcommon {

class undo {
 public:
  explicit undo(std::function<void()> action) : action_{std::move(action)} {}
  undo(const undo&) = delete;
  undo& operator=(const undo&) = delete;
  ~undo() {
    if (action_) action_();
  }
  void dismiss() noexcept { action_ = nullptr; }

 private:
  std::function<void()> action_;
};

}  // namespace xcommon
