#pragma once
// A FIFO in one power-of-two buffer. The DRAM model pushes and pops a few
// entries per command; std::deque spends more on walking its block map than
// on the entries, and a heap more on unpredictable comparisons than a sorted
// ring whose new entries nearly always belong at the back. A bank's queue
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
  const T& front() const { return buf_[head_ & mask_]; }
  const T& back() const { return buf_[(tail_ - 1) & mask_]; }
  // The i-th entry from the front.
  const T& operator[](std::size_t i) const { return buf_[(head_ + i) & mask_]; }
  void pop_front() { ++head_; }
  // Removes the i-th entry from the front; the others keep their order.
  void erase(std::size_t i) {
    if (i < size() - 1 - i) {
      for (std::size_t k = head_ + i; k != head_; --k) buf_[k & mask_] = buf_[(k - 1) & mask_];
      ++head_;
    } else {
      --tail_;
      for (std::size_t k = head_ + i; k != tail_; ++k) buf_[k & mask_] = buf_[(k + 1) & mask_];
    }
  }
  void push_back(const T& value) { push_back_slot() = value; }
  // A new entry at the back, for the caller to fill field by field: a whole
  // struct copied from fields just written one by one would be loaded in
  // wider pieces than were stored, and stall on store forwarding.
  T& push_back_slot() {
    if (size() == buf_.size()) grow();
    return buf_[tail_++ & mask_];
  }
  // Keeps the ring sorted by `before` (after equal entries), searching from
  // the back.
  template <typename Before>
  void insert_sorted(const T& value, Before before) {
    if (size() == buf_.size()) grow();
    std::size_t i = tail_++;
    for (; i != head_ && before(value, buf_[(i - 1) & mask_]); --i) buf_[i & mask_] = buf_[(i - 1) & mask_];
    buf_[i & mask_] = value;
  }

 private:
  void grow() {
    std::vector<T> bigger(std::max<std::size_t>(16, 2 * buf_.size()));
    const std::size_t n = size();
    for (std::size_t i = 0; i < n; ++i) bigger[i] = buf_[(head_ + i) & mask_];
    buf_.swap(bigger);
    mask_ = buf_.size() - 1;
    head_ = 0;
    tail_ = n;
  }

  std::vector<T> buf_;
  // Positions count up without wrapping; the buffer index is position & mask_.
  std::size_t head_ = 0, tail_ = 0, mask_ = 0;
};

}  // namespace npuvp::dram
