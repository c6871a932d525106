#include "models/pe_array/systolic_reference.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace npuvp::pe_array {
namespace {

// One operand or partial sum on a PE-to-PE link. `tag` names what it belongs
// to (WS: the pixel, OS: the reduction index) so misalignment is detected.
struct Token {
  bool valid = false;
  bool real = false;  // from the matrices, not zero padding
  bool first = false;
  bool last = false;
  std::int32_t value = 0;
  std::uint64_t tag = 0;
};

struct Fold {
  std::uint64_t row0 = 0;  // first index of the dimension the rows hold
  std::uint64_t col0 = 0;  // first filter
};

[[noreturn]] void hardware_error(const std::string& what) { throw std::logic_error("systolic reference: " + what); }

class ArraySim {
 public:
  ArraySim(Dataflow dataflow, ArrayShape array, GemmShape gemm, const std::vector<std::int8_t>& a,
           const std::vector<std::int8_t>& b, bool preload_overlap)
      : ws_(dataflow == Dataflow::kWeightStationary),
        rows_(array.rows),
        cols_(array.cols),
        g_(gemm),
        a_(a),
        b_(b),
        overlap_(preload_overlap),
        x_(cells()),
        v_(cells()),
        x_next_(cells()),
        v_next_(cells()),
        acc_(cells(), 0),
        w_active_(cells(), 0),
        w_active_real_(cells(), 0),
        w_shadow_(cells(), 0),
        w_shadow_real_(cells(), 0) {
    const std::uint64_t spatial = ws_ ? g_.k : g_.m;
    for (std::uint64_t c0 = 0; c0 < g_.n; c0 += cols_)
      for (std::uint64_t r0 = 0; r0 < spatial; r0 += rows_) folds_.push_back({r0, c0});
    run_.product.assign(g_.m * g_.n, 0);
  }

  SystolicRun run() {
    if (g_.m == 0 || g_.n == 0 || g_.k == 0) return std::move(run_);
    while (streamed_ < folds_.size()) {
      bool active = false;
      if (!streaming_ && weights_ready()) start_fold();
      active |= load_step();
      if (streaming_) {
        step_pes();
        active = true;
        ++s_;
        if (feeder_done() && pipeline_empty()) finish_fold();
      }
      if (!active) hardware_error("no progress (deadlock)");
      ++run_.cycles;
    }
    return std::move(run_);
  }

 private:
  std::size_t cells() const { return static_cast<std::size_t>(rows_) * cols_; }
  std::size_t at(std::uint64_t r, std::uint64_t c) const { return static_cast<std::size_t>(r * cols_ + c); }

  // --- weight-stationary preload ------------------------------------------
  // The chain targets the active registers without overlap (only while the
  // array is idle), the shadow registers with it (any time they are free).
  bool weights_ready() const {
    if (!ws_) return true;
    return overlap_ ? shadow_fold_ == streamed_ && shadow_pushes_ == rows_
                    : active_fold_ == streamed_ && active_pushes_ == rows_;
  }

  bool load_step() {
    if (!ws_) return false;
    if (overlap_) {
      if (shadow_pushes_ == rows_ && shadow_fold_ != kNone) return false;  // full, not yet consumed
      if (shadow_fold_ == kNone) {
        if (next_load_ >= folds_.size()) return false;
        shadow_fold_ = next_load_++;
        shadow_pushes_ = 0;
      }
      push_weight_row(w_shadow_, w_shadow_real_, folds_[shadow_fold_], shadow_pushes_++);
      return true;
    }
    if (streaming_ || next_load_ >= folds_.size()) return false;
    if (active_fold_ != next_load_) {
      active_fold_ = next_load_;
      active_pushes_ = 0;
    }
    push_weight_row(w_active_, w_active_real_, folds_[active_fold_], active_pushes_++);
    if (active_pushes_ == rows_) ++next_load_;
    return true;
  }

  // Shifts the chain down one row and pushes the fold's weights for row
  // rows-1-step at the top, so that after `rows` pushes row r holds row r.
  void push_weight_row(std::vector<std::int32_t>& chain, std::vector<char>& real, const Fold& f, unsigned step) {
    for (std::uint64_t r = rows_ - 1; r > 0; --r)
      for (std::uint64_t c = 0; c < cols_; ++c) {
        chain[at(r, c)] = chain[at(r - 1, c)];
        real[at(r, c)] = real[at(r - 1, c)];
      }
    const std::uint64_t k = f.row0 + (rows_ - 1 - step);
    for (std::uint64_t c = 0; c < cols_; ++c) {
      const std::uint64_t n = f.col0 + c;
      const bool in = k < g_.k && n < g_.n;
      chain[at(0, c)] = in ? b_[k * g_.n + n] : 0;
      real[at(0, c)] = in;
    }
  }

  // --- streaming -------------------------------------------------------------
  void start_fold() {
    if (ws_ && overlap_) {
      w_active_ = w_shadow_;
      w_active_real_ = w_shadow_real_;
      shadow_fold_ = kNone;
    }
    streaming_ = true;
    s_ = 0;
    collected_ = 0;
  }

  void finish_fold() {
    const std::uint64_t expected = ws_ ? g_.m * cols_ : std::uint64_t{rows_} * cols_;
    if (collected_ != expected)
      hardware_error("fold " + std::to_string(streamed_) + " delivered " + std::to_string(collected_) + " of " +
                     std::to_string(expected) + " results");
    streaming_ = false;
    ++streamed_;
  }

  std::uint64_t streamed_len() const { return ws_ ? g_.m : g_.k; }

  bool feeder_done() const {
    // Row r (and, for OS, column c) is fed in stream cycles r .. r + len - 1.
    const std::uint64_t skew = ws_ ? rows_ - 1 : std::max(rows_, cols_) - 1;
    return s_ >= streamed_len() + skew;
  }

  // Tokens latched in registers that feed another PE (the right column's
  // inputs and the bottom row's sums/weights leave the array).
  bool pipeline_empty() const {
    for (std::uint64_t r = 0; r < rows_; ++r)
      for (std::uint64_t c = 0; c < cols_; ++c) {
        if (c + 1 < cols_ && x_[at(r, c)].valid) return false;
        if (r + 1 < rows_ && v_[at(r, c)].valid) return false;
      }
    return true;
  }

  // The token entering row r from the left edge in this stream cycle.
  Token left_input(std::uint64_t r) const {
    Token t;
    if (s_ < r || s_ - r >= streamed_len()) return t;
    const std::uint64_t i = s_ - r;  // WS: pixel, OS: reduction index
    const Fold& f = folds_[streamed_];
    std::uint64_t m = 0, k = 0;
    if (ws_) {
      m = i;
      k = f.row0 + r;
    } else {
      m = f.row0 + r;
      k = i;
    }
    t.valid = true;
    t.tag = i;
    t.first = i == 0;
    t.last = i + 1 == streamed_len();
    t.real = m < g_.m && k < g_.k;
    t.value = t.real ? a_[m * g_.k + k] : 0;
    return t;
  }

  // OS: the weight entering column c from the top edge in this stream cycle.
  Token top_input(std::uint64_t c) const {
    Token t;
    if (s_ < c || s_ - c >= g_.k) return t;
    const std::uint64_t k = s_ - c;
    const std::uint64_t n = folds_[streamed_].col0 + c;
    t.valid = true;
    t.tag = k;
    t.real = n < g_.n;
    t.value = t.real ? b_[k * g_.n + n] : 0;
    return t;
  }

  void step_pes() {
    const Fold& f = folds_[streamed_];
    std::vector<char> port_busy(cols_, 0);
    for (std::uint64_t r = 0; r < rows_; ++r) {
      for (std::uint64_t c = 0; c < cols_; ++c) {
        const Token x = c == 0 ? left_input(r) : x_[at(r, c - 1)];
        x_next_[at(r, c)] = x;
        if (ws_) {
          // v carries partial sums down; row 0 starts them at zero.
          Token sum = r == 0 ? Token{x.valid, true, false, false, 0, x.tag} : v_[at(r - 1, c)];
          if (sum.valid != x.valid || (x.valid && sum.tag != x.tag))
            hardware_error("WS input and partial sum misaligned at PE " + std::to_string(r) + "," + std::to_string(c));
          if (x.valid) {
            sum.value += x.value * w_active_[at(r, c)];
            if (x.real && w_active_real_[at(r, c)]) ++run_.macs;
          }
          v_next_[at(r, c)] = sum;
          if (r + 1 == rows_ && sum.valid) collect_ws(f, c, sum);
        } else {
          // v carries weights down.
          const Token w = r == 0 ? top_input(c) : v_[at(r - 1, c)];
          v_next_[at(r, c)] = w;
          if (w.valid != x.valid || (x.valid && w.tag != x.tag))
            hardware_error("OS operands misaligned at PE " + std::to_string(r) + "," + std::to_string(c));
          if (!x.valid) continue;
          std::int32_t& acc = acc_[at(r, c)];
          acc = (x.first ? 0 : acc) + x.value * w.value;
          if (x.real && w.real) ++run_.macs;
          if (x.last) {
            if (port_busy[c]) hardware_error("two PEs drive output port " + std::to_string(c) + " in one cycle");
            port_busy[c] = 1;
            collect_os(f, r, c, acc);
          }
        }
      }
    }
    x_.swap(x_next_);
    v_.swap(v_next_);
  }

  void collect_ws(const Fold& f, std::uint64_t c, const Token& sum) {
    ++collected_;
    const std::uint64_t n = f.col0 + c;
    if (n < g_.n) run_.product[sum.tag * g_.n + n] += sum.value;
  }

  void collect_os(const Fold& f, std::uint64_t r, std::uint64_t c, std::int32_t value) {
    ++collected_;
    const std::uint64_t m = f.row0 + r;
    const std::uint64_t n = f.col0 + c;
    if (m < g_.m && n < g_.n) run_.product[m * g_.n + n] = value;
  }

  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

  const bool ws_;
  const std::uint64_t rows_;
  const std::uint64_t cols_;
  const GemmShape g_;
  const std::vector<std::int8_t>& a_;
  const std::vector<std::int8_t>& b_;
  const bool overlap_;

  std::vector<Fold> folds_;
  std::vector<Token> x_, v_, x_next_, v_next_;  // latched at the end of the previous cycle / this cycle
  std::vector<std::int32_t> acc_;
  std::vector<std::int32_t> w_active_;
  std::vector<char> w_active_real_;
  std::vector<std::int32_t> w_shadow_;
  std::vector<char> w_shadow_real_;

  std::size_t next_load_ = 0;  // next fold whose weights the chain loads
  std::size_t active_fold_ = kNone;
  unsigned active_pushes_ = 0;
  std::size_t shadow_fold_ = kNone;
  unsigned shadow_pushes_ = 0;

  std::size_t streamed_ = 0;  // folds finished
  bool streaming_ = false;
  std::uint64_t s_ = 0;  // cycle within the current fold's stream
  std::uint64_t collected_ = 0;
  SystolicRun run_;
};

}  // namespace

SystolicRun simulate_systolic_array(Dataflow dataflow, ArrayShape array, GemmShape gemm,
                                    const std::vector<std::int8_t>& a, const std::vector<std::int8_t>& b,
                                    bool preload_overlap) {
  if (array.rows == 0 || array.cols == 0) throw std::invalid_argument("systolic reference: array has a zero dimension");
  if (a.size() != gemm.m * gemm.k || b.size() != gemm.k * gemm.n)
    throw std::invalid_argument("systolic reference: operand sizes do not match the GEMM shape");
  return ArraySim(dataflow, array, gemm, a, b, preload_overlap).run();
}

}  // namespace npuvp::pe_array
