#pragma once
// Reusable per-module test benches (the VCML test_base idea).
//
// A bench is an sc_module that owns the module under test and everything
// around it (memories, initiators, IRQ lines); its run() is the test body,
// executed in an SC_THREAD: it drives stimulus, checks with EXPECT_*, and
// when it returns the simulation stops. A TEST builds one bench and starts
// the kernel (one TEST per process, see cmake/NpuvpTesting.cmake):
//
//   struct MyBench : testing::Bench {
//     testing::TlmMemory mem{"mem", 4096};
//     testing::Initiator cpu{"cpu"};
//     Dut dut{"dut"};
//     MyBench() : Bench("bench") { cpu.socket.bind(dut.target_socket); ... }
//   };
//   TEST(Dut, Works) {
//     MyBench b;
//     b.body = [&] { b.cpu.write32(0x0, 1); EXPECT_EQ(b.cpu.read32(0x4), 2u); };
//     sim::run_to_end();  // sc_start(), then ASan back on the main stack
//   }
//
// The pieces (TlmMemory, Initiator, IrqLine, debug_write/debug_read) are
// usable on their own as well.

#include <cstdint>
#include <functional>
#include <vector>

#include <gtest/gtest.h>
#include <tlm_utils/multi_passthrough_target_socket.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/tlm_quantumkeeper.h>
#include <systemc>
#include <tlm>

namespace npuvp::testing {

// A payload for one plain access (no byte enables unless given).
void fill_payload(tlm::tlm_generic_payload& gp, tlm::tlm_command cmd, std::uint64_t addr, void* data, unsigned len,
                  const std::uint8_t* byte_enables = nullptr, unsigned byte_enable_length = 0,
                  unsigned streaming_width = 0);

// Side-effect-free access through any target's (or interconnect's) debug
// transport; EXPECTs that all `len` bytes were served.
template <typename Socket>
void debug_write(Socket& target, std::uint64_t addr, const void* data, unsigned len) {
  tlm::tlm_generic_payload gp;
  fill_payload(gp, tlm::TLM_WRITE_COMMAND, addr, const_cast<void*>(data), len);
  EXPECT_EQ(target.get_base_interface().transport_dbg(gp), len) << std::hex << "debug write at 0x" << addr;
}
template <typename Socket>
void debug_read(Socket& target, std::uint64_t addr, void* data, unsigned len) {
  tlm::tlm_generic_payload gp;
  fill_payload(gp, tlm::TLM_READ_COMMAND, addr, data, len);
  EXPECT_EQ(target.get_base_interface().transport_dbg(gp), len) << std::hex << "debug read at 0x" << addr;
}

// A memory target: `bytes` at addresses [base, base + size) as it receives
// them. Every b_transport adds `latency` to the delay (or, synchronizing,
// waits it out); accesses outside the window, or all of them when `forced` is
// set, fail with that status. Any number of initiators may bind its socket.
class TlmMemory : public sc_core::sc_module {
 public:
  tlm_utils::multi_passthrough_target_socket<TlmMemory> target_socket;
  std::vector<std::uint8_t> bytes;
  std::uint64_t base;
  sc_core::sc_time latency;
  tlm::tlm_response_status forced = tlm::TLM_OK_RESPONSE;
  bool synchronizes = false;  // wait the delay inside b_transport instead of annotating it
  bool allow_dmi = false;
  std::vector<std::uint64_t> seen_addresses;  // of every b_transport, as received
  std::vector<sc_core::sc_time> seen_delays;  // the delay each b_transport was annotated with

  TlmMemory(const sc_core::sc_module_name& name, std::size_t size, sc_core::sc_time latency = sc_core::SC_ZERO_TIME,
            std::uint64_t base = 0);

  // Backdoor access at an address of the window (no timing, no record).
  void write(std::uint64_t addr, const void* data, std::size_t len);
  void read(std::uint64_t addr, void* data, std::size_t len) const;
  template <typename T>
  T get(std::uint64_t addr) const {
    T v{};
    read(addr, &v, sizeof v);
    return v;
  }

 private:
  void b_transport(int id, tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  unsigned transport_dbg(int id, tlm::tlm_generic_payload& gp);
  bool get_direct_mem_ptr(int id, tlm::tlm_generic_payload& gp, tlm::tlm_dmi& dmi);
  bool in_window(const tlm::tlm_generic_payload& gp) const;
};

// An initiator port with a quantum keeper (loosely timed, as the host CPU model drives a bus).
class Initiator : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<Initiator> socket;

  explicit Initiator(const sc_core::sc_module_name& name);

  // One b_transport with the caller's delay; nothing is waited.
  tlm::tlm_response_status transport(tlm::tlm_command cmd, std::uint64_t addr, void* data, unsigned len,
                                     sc_core::sc_time& delay, const std::uint8_t* byte_enables = nullptr,
                                     unsigned byte_enable_length = 0, unsigned streaming_width = 0);
  // Loosely timed: the delay runs ahead in the quantum keeper, synchronized
  // once the global quantum is used up.
  tlm::tlm_response_status access(tlm::tlm_command cmd, std::uint64_t addr, void* data, unsigned len);
  // Register access (EXPECTs an OK response), synchronized afterwards so
  // that simulated time includes it.
  void write32(std::uint64_t addr, std::uint32_t value);
  std::uint32_t read32(std::uint64_t addr);
  // Debug transport; returns the bytes served.
  unsigned debug(tlm::tlm_command cmd, std::uint64_t addr, void* data, unsigned len);

  void sync() { quantum_.sync(); }
  sc_core::sc_time local_time() const { return quantum_.get_local_time(); }
  sc_core::sc_time now() const { return sc_core::sc_time_stamp() + quantum_.get_local_time(); }
  sc_core::sc_time last_delay() const { return last_delay_; }  // what the last access() took

 private:
  tlm_utils::tlm_quantumkeeper quantum_;
  sc_core::sc_time last_delay_;
};

// An interrupt line any number of processes may drive.
class IrqLine : public sc_core::sc_signal<bool, sc_core::SC_MANY_WRITERS> {
 public:
  explicit IrqLine(const char* name) : sc_signal(name, false) {}
  // Returns when the line is high, or after `timeout` (SC_ZERO_TIME: never);
  // whether it is high.
  bool wait_high(const sc_core::sc_time& timeout = sc_core::SC_ZERO_TIME);
};

// The bench: run() (by default `body`) in an SC_THREAD, then sc_stop().
class Bench : public sc_core::sc_module {
 public:
  std::function<void()> body;

  explicit Bench(const sc_core::sc_module_name& name);
  ~Bench() override;  // a test body that never got to its end fails the test
  bool finished() const { return finished_; }

 protected:
  virtual void run();
  // False when the module under test stops the simulation itself.
  bool stop_at_end_ = true;

 private:
  void thread();
  bool finished_ = false;
};

// `n` periods of a `mhz` clock, as the models compute them.
inline sc_core::sc_time cycles(double mhz, double n) { return sc_core::sc_time(1e3 / mhz, sc_core::SC_NS) * n; }

}  // namespace npuvp::testing
