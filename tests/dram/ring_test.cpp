// Ring: FIFO order across slides to the buffer start and growth, sorted
// insertion, inserting into and erasing from the middle (either side moves)
// and dropping a leading run of entries, against a std::deque.
#include "models/dram/ring.h"

#include <cstdint>
#include <deque>
#include <random>

#include <gtest/gtest.h>

namespace npuvp::dram {
namespace {

void expect_same(const Ring<int>& ring, const std::deque<int>& model) {
  ASSERT_EQ(ring.size(), model.size());
  for (std::size_t i = 0; i < model.size(); ++i) EXPECT_EQ(ring[i], model[i]) << "entry " << i;
}

TEST(Ring, EraseKeepsTheOrderOfTheOthersOnEitherSide) {
  Ring<int> ring;
  std::deque<int> model;
  for (int v = 0; v < 9; ++v) ring.push_back(v), model.push_back(v);
  ring.erase(1);  // front side moves
  model.erase(model.begin() + 1);
  expect_same(ring, model);
  ring.erase(6);  // back side moves
  model.erase(model.begin() + 6);
  expect_same(ring, model);
  ring.erase(0);
  model.erase(model.begin());
  ring.erase(ring.size() - 1);
  model.pop_back();
  expect_same(ring, model);
  EXPECT_EQ(ring.front(), 2);
  EXPECT_EQ(ring[4], 6);
}

TEST(Ring, MatchesADequeUnderRandomPushPopInsertEraseAcrossSlidesAndGrowth) {
  Ring<int> ring;
  std::deque<int> model;
  std::mt19937 rng(7);
  int next = 0;
  for (int step = 0; step < 20000; ++step) {
    const unsigned op = rng() % 6;
    if (op <= 1 || model.empty()) {
      ring.push_back(next);
      model.push_back(next++);
    } else if (op == 5) {
      // Several at once, now and then more than the buffer holds.
      const std::size_t n = rng() % 8 == 0 ? 1 + rng() % 100 : 1 + rng() % 5;
      int* slots = ring.push_back_n(n);
      for (std::size_t k = 0; k < n; ++k) slots[k] = next, model.push_back(next++);
    } else if (op == 2) {
      ring.pop_front();
      model.pop_front();
    } else if (op == 3) {
      const std::size_t i = rng() % (model.size() + 1);
      ring.insert(i, next);
      model.insert(model.begin() + std::ptrdiff_t(i), next++);
    } else {
      const std::size_t i = rng() % model.size();
      ring.erase(i);
      model.erase(model.begin() + std::ptrdiff_t(i));
    }
    ASSERT_EQ(ring.size(), model.size());
    ASSERT_EQ(ring.empty(), model.empty());
    if (!model.empty()) {
      ASSERT_EQ(ring.front(), model.front());
    }
  }
  expect_same(ring, model);
}

TEST(Ring, PopFrontWhileDropsTheLeadingEntriesThatMatchAcrossSlides) {
  Ring<int> ring;
  std::deque<int> model;
  std::mt19937 rng(11);
  int next = 0;
  for (int step = 0; step < 5000; ++step) {
    for (unsigned k = rng() % 6; k != 0; --k) ring.push_back(next), model.push_back(next++);
    // Sorted entries: the ones below a bound are a prefix, of any length.
    const int below = next - int(rng() % 12);
    ring.pop_front_while([below](int v) { return v < below; });
    while (!model.empty() && model.front() < below) model.pop_front();
    ASSERT_EQ(ring.size(), model.size()) << "step " << step;
    ASSERT_EQ(ring.empty(), model.empty());
    if (!model.empty()) {
      ASSERT_EQ(ring.front(), model.front()) << "step " << step;
    }
  }
  expect_same(ring, model);
  ring.pop_front_while([](int) { return true; });
  EXPECT_TRUE(ring.empty());
  ring.push_back(3);  // the buffer is reused from its start
  EXPECT_EQ(ring.front(), 3);
}

TEST(Ring, InsertSortedPlacesAfterEqualEntries) {
  struct E {
    int key, id;
  };
  Ring<E> ring;
  const int keys[] = {5, 3, 5, 9, 1, 5};
  for (int i = 0; i < 6; ++i) ring.insert_sorted({keys[i], i}, [](const E& a, const E& b) { return a.key < b.key; });
  const int ids[] = {4, 1, 0, 2, 5, 3};
  ASSERT_EQ(ring.size(), 6u);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(ring[std::size_t(i)].id, ids[i]) << "position " << i;
}

}  // namespace
}  // namespace npuvp::dram
