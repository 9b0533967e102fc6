// SPDX-License-Identifier: Apache-2.0
#include "cppnode/cnode/detail/loop_pacing.hpp"

#include <utility>

namespace cppnode::cnode::detail {

namespace {
thread_local std::size_t sent_since_note_taken = 0;
}  // namespace

LoopPacing::LoopPacing(std::chrono::microseconds busy_wait, std::chrono::microseconds coalesce,
                       clock::time_point now) noexcept
    : busy_wait_(busy_wait), coalesce_(coalesce), last_work_(now) {}

// Work found by the poll right after a round that sent something, or a round that sent more than
// one signal, means that requests arrived while the last ones were handled: the peers send as
// fast as they get answers. The thread then naps between polls, so that the next requests gather
// and one read, one pass and one write serve many calls, for as long as each nap's round answers
// more than one request. A lone caller's next request comes only after its reply has travelled:
// the poll right after the reply finds nothing, and if it ever does, the nap that follows gathers
// one call and ends the napping.
LoopPacing::Step LoopPacing::after_poll(std::size_t handlers, std::size_t sent,
                                        clock::time_point now) noexcept {
  if (handlers > 0) {
    last_work_ = now;
    const bool sent_before = std::exchange(sent_last_round_, sent > 0);
    // More than one answer in a round: several callers are waiting on this thread.
    const bool several_callers = sent > 1;
    coalescing_ =
        coalesce_.count() > 0 && (coalescing_ ? several_callers : several_callers || sent_before);
    return coalescing_ ? Step::nap : Step::poll;
  }
  sent_last_round_ = false;
  coalescing_ = false;
  // Polls only while work comes often: after a sleep of more than four times busy_wait it
  // sleeps at once, so a node that gets a message now and then does not poll after each one.
  if (work_comes_often_ && now - last_work_ < busy_wait_) {
    return Step::yield;
  }
  return Step::sleep;
}

void LoopPacing::after_sleep(clock::time_point asleep_since, clock::time_point now,
                             std::size_t sent) noexcept {
  last_work_ = now;
  work_comes_often_ = now - asleep_since < 4 * busy_wait_;
  sent_last_round_ = sent > 0;
  coalescing_ = false;
}

void LoopPacing::note_sent() noexcept { ++sent_since_note_taken; }

std::size_t LoopPacing::take_sent_note() noexcept {
  return std::exchange(sent_since_note_taken, 0);
}

}  // namespace cppnode::cnode::detail
