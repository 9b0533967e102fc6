// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstddef>

namespace cppnode::cnode::detail {

/// What an event-loop thread does after each round of `io_context::poll()`, which returns once the
/// thread has run out of ready work: the rule behind NodeConfig::busy_wait and
/// NodeConfig::coalesce, apart from the loop so that it can be tested with made-up times.
class LoopPacing {
 public:
  using clock = std::chrono::steady_clock;
  enum class Step {
    poll,   // poll again at once
    nap,    // sleep for `coalesce`, then poll: requests keep coming as fast as they are answered
    yield,  // let another runnable thread go first, then poll (busy waiting)
    sleep,  // block until an event comes (`io_context::run_one()`)
  };

  LoopPacing(std::chrono::microseconds busy_wait, std::chrono::microseconds coalesce,
             clock::time_point now) noexcept;

  /// After a poll that ran `handlers` handlers, which sent `sent` signals to other nodes (see
  /// note_sent()).
  [[nodiscard]] Step after_poll(std::size_t handlers, std::size_t sent,
                                clock::time_point now) noexcept;
  /// After a blocking wait that began at `asleep_since` and ended at `now` with one handler run
  /// (`sent` as for after_poll()).
  void after_sleep(clock::time_point asleep_since, clock::time_point now,
                   std::size_t sent) noexcept;

  /// A signal sent to a connection on this thread calls note_sent(); the loop takes the count
  /// after each poll, to tell a round that answered calls from one that only read.
  static void note_sent() noexcept;
  [[nodiscard]] static std::size_t take_sent_note() noexcept;

 private:
  std::chrono::microseconds busy_wait_;
  std::chrono::microseconds coalesce_;
  clock::time_point last_work_;
  bool work_comes_often_ = true;
  bool sent_last_round_ = false;
  bool coalescing_ = false;  // napping between polls while each nap gathers several requests
};

}  // namespace cppnode::cnode::detail
