// SPDX-License-Identifier: Apache-2.0
#include "cppnode/cnode/detail/loop_pacing.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace {

using cppnode::cnode::detail::LoopPacing;
using Step = LoopPacing::Step;
using std::chrono::microseconds;

const LoopPacing::clock::time_point t0{};

TEST(LoopPacing, NapsWhileEachNapGathersSeveralRequests) {
  LoopPacing pacing(microseconds(50), microseconds(20), t0);
  EXPECT_EQ(pacing.after_poll(1, 1, t0), Step::poll);
  // Requests came while the last one was answered.
  EXPECT_EQ(pacing.after_poll(1, 1, t0 + microseconds(5)), Step::nap);
  EXPECT_EQ(pacing.after_poll(1, 3, t0 + microseconds(30)), Step::nap);
  EXPECT_EQ(pacing.after_poll(2, 6, t0 + microseconds(55)), Step::nap);
  // A nap that gathered one request ends the napping.
  EXPECT_EQ(pacing.after_poll(1, 1, t0 + microseconds(80)), Step::poll);
}

TEST(LoopPacing, ANapThatFindsNothingEndsTheNapping) {
  LoopPacing pacing(microseconds(50), microseconds(20), t0);
  EXPECT_EQ(pacing.after_poll(1, 1, t0), Step::poll);
  EXPECT_EQ(pacing.after_poll(1, 1, t0), Step::nap);
  EXPECT_EQ(pacing.after_poll(0, 0, t0 + microseconds(25)), Step::yield);
  EXPECT_EQ(pacing.after_poll(1, 0, t0 + microseconds(30)), Step::poll);
}

TEST(LoopPacing, ARoundThatAnswersSeveralCallsStartsANap) {
  LoopPacing pacing(microseconds(50), microseconds(20), t0);
  EXPECT_EQ(pacing.after_poll(1, 3, t0), Step::nap);
}

TEST(LoopPacing, ARoundThatOnlyReadDoesNotStartANap) {
  LoopPacing pacing(microseconds(50), microseconds(20), t0);
  EXPECT_EQ(pacing.after_poll(1, 0, t0), Step::poll);
  EXPECT_EQ(pacing.after_poll(1, 0, t0), Step::poll);
  EXPECT_EQ(pacing.after_poll(1, 1, t0), Step::poll);
}

TEST(LoopPacing, ALoneCallerNeverWaitsForANap) {
  // Its next request comes only after the reply has travelled: the poll right after the reply
  // finds nothing, and the one that finds the request polls again at once.
  LoopPacing pacing(microseconds(50), microseconds(20), t0);
  auto now = t0;
  for (int call = 0; call < 3; ++call) {
    EXPECT_EQ(pacing.after_poll(1, 1, now), Step::poll);
    EXPECT_EQ(pacing.after_poll(0, 0, now + microseconds(1)), Step::yield);
    EXPECT_EQ(pacing.after_poll(0, 0, now + microseconds(20)), Step::yield);
    now += microseconds(30);
  }
}

TEST(LoopPacing, ZeroCoalesceNeverNaps) {
  LoopPacing pacing(microseconds(50), microseconds(0), t0);
  for (int round = 0; round < 5; ++round) {
    EXPECT_EQ(pacing.after_poll(4, 8, t0 + microseconds(round)), Step::poll);
  }
}

TEST(LoopPacing, PollsForBusyWaitAfterTheLastWorkThenSleeps) {
  LoopPacing pacing(microseconds(50), microseconds(20), t0);
  EXPECT_EQ(pacing.after_poll(1, 0, t0), Step::poll);
  EXPECT_EQ(pacing.after_poll(0, 0, t0 + microseconds(49)), Step::yield);
  EXPECT_EQ(pacing.after_poll(0, 0, t0 + microseconds(50)), Step::sleep);
}

TEST(LoopPacing, ZeroBusyWaitSleepsAtOnce) {
  LoopPacing pacing(microseconds(0), microseconds(20), t0);
  EXPECT_EQ(pacing.after_poll(0, 0, t0), Step::sleep);
}

TEST(LoopPacing, AfterALongSleepItSleepsAtOnceUntilWorkComesOftenAgain) {
  LoopPacing pacing(microseconds(50), microseconds(20), t0);
  pacing.after_sleep(t0, t0 + microseconds(201), 0);  // over 4 x busy_wait
  EXPECT_EQ(pacing.after_poll(0, 0, t0 + microseconds(202)), Step::sleep);
  const auto later = t0 + microseconds(1000);
  pacing.after_sleep(later, later + microseconds(199), 0);
  EXPECT_EQ(pacing.after_poll(0, 0, later + microseconds(200)), Step::yield);
}

TEST(LoopPacing, AReplySentByTheHandlerThatEndedASleepCountsAsTheLastRound) {
  LoopPacing pacing(microseconds(50), microseconds(20), t0);
  pacing.after_sleep(t0, t0 + microseconds(10), 1);
  EXPECT_EQ(pacing.after_poll(1, 1, t0 + microseconds(11)), Step::nap);
}

TEST(LoopPacing, TheSentNoteCountsSignalsAndIsTakenOnce) {
  EXPECT_EQ(LoopPacing::take_sent_note(), 0U);
  LoopPacing::note_sent();
  LoopPacing::note_sent();
  EXPECT_EQ(LoopPacing::take_sent_note(), 2U);
  EXPECT_EQ(LoopPacing::take_sent_note(), 0U);
}

}  // namespace
