#pragma once
// A FIFO whose entries lie contiguous in one buffer, from head_ to tail_. The
// DRAM model pushes and pops a few entries per command; std::deque spends
// more on walking its block map than on the entries, and a heap more on
// unpredictable comparisons than a sorted FIFO whose new entries nearly
// always belong at the back. Popping moves the head on; when the back reaches
// the end of the buffer the entries slide down to its start (or the buffer
// doubles if they fill more than half of it), so that indexing needs no
// wrap-around: a scan of a bank's queue walks plain memory. A bank's queue
// also takes entries out of the middle (FR-FCFS serves row hits first), which
// moves only the entries on the shorter side: serving the front, the usual
// case, moves none.

#include <algorithm>
#include <cstddef>
#include <vector>

namespace npuvp::dram {

template <typename T>
class Ring {
 public:
  bool empty() const { return head_ == tail_; }
  std::size_t size() const { return tail_ - head_; }
  const T& front() const { return buf_[head_]; }
  const T& back() const { return buf_[tail_ - 1]; }
  // The i-th entry from the front.
  const T& operator[](std::size_t i) const { return buf_[head_ + i]; }
  T& operator[](std::size_t i) { return buf_[head_ + i]; }
  void pop_front() {
    if (++head_ == tail_) head_ = tail_ = 0;
  }
  // Removes the first n entries (at most size()).
  void pop_front_n(std::size_t n) {
    head_ += n;
    if (head_ == tail_) head_ = tail_ = 0;
  }
  // Removes the leading entries for which `drop` holds, which must be a
  // prefix (entries sorted so that it holds up to some point): found by
  // bisection, removed at once.
  template <typename Drop>
  void pop_front_while(Drop drop) {
    const auto first = buf_.begin() + std::ptrdiff_t(head_);
    pop_front_n(std::size_t(std::partition_point(first, buf_.begin() + std::ptrdiff_t(tail_), drop) - first));
  }
  // Removes the i-th entry from the front; the others keep their order.
  void erase(std::size_t i) {
    if (i < size() - 1 - i) {
      for (std::size_t k = head_ + i; k != head_; --k) buf_[k] = buf_[k - 1];
      pop_front();
    } else {
      --tail_;
      for (std::size_t k = head_ + i; k != tail_; ++k) buf_[k] = buf_[k + 1];
      if (head_ == tail_) head_ = tail_ = 0;
    }
  }
  void push_back(const T& value) { push_back_slot() = value; }
  // A new entry at the back, for the caller to fill field by field: a whole
  // struct copied from fields just written one by one would be loaded in
  // wider pieces than were stored, and stall on store forwarding.
  T& push_back_slot() {
    if (tail_ == buf_.size()) make_room(1);
    return buf_[tail_++];
  }
  // `n` new entries at the back, contiguous, for the caller to fill: one
  // check for room instead of one per entry.
  T* push_back_n(std::size_t n) {
    if (buf_.size() - tail_ < n) make_room(n);
    T* const slots = buf_.data() + tail_;
    tail_ += n;
    return slots;
  }
  // A new i-th entry from the front; the ones from there on move back.
  void insert(std::size_t i, const T& value) {
    if (tail_ == buf_.size()) make_room(1);
    for (std::size_t k = tail_++; k != head_ + i; --k) buf_[k] = buf_[k - 1];
    buf_[head_ + i] = value;
  }
  // Keeps the entries sorted by `before` (after equal entries), searching
  // from the back.
  template <typename Before>
  void insert_sorted(const T& value, Before before) {
    if (tail_ == buf_.size()) make_room(1);
    std::size_t i = tail_++;
    for (; i != head_ && before(value, buf_[i - 1]); --i) buf_[i] = buf_[i - 1];
    buf_[i] = value;
  }

 private:
  // Room for `extra` more entries at the back.
  void make_room(std::size_t extra) {
    const std::size_t n = size();
    if (buf_.size() < 16 || 2 * n > buf_.size() || n + extra > buf_.size()) {
      std::vector<T> bigger(std::max({std::size_t(16), 2 * buf_.size(), n + extra}));
      std::copy(buf_.begin() + std::ptrdiff_t(head_), buf_.begin() + std::ptrdiff_t(tail_), bigger.begin());
      buf_.swap(bigger);
    } else {
      std::copy(buf_.begin() + std::ptrdiff_t(head_), buf_.begin() + std::ptrdiff_t(tail_), buf_.begin());
    }
    head_ = 0;
    tail_ = n;
  }

  std::vector<T> buf_;
  std::size_t head_ = 0, tail_ = 0;  // indices into buf_
};

}  // namespace npuvp::dram
