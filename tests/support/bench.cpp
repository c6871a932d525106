#include "tests/support/bench.h"

#include <cstring>
#include <exception>

#include "models/common/tlm_target_checks.h"

namespace npuvp::testing {

void fill_payload(tlm::tlm_generic_payload& gp, tlm::tlm_command cmd, std::uint64_t addr, void* data, unsigned len,
                  const std::uint8_t* byte_enables, unsigned byte_enable_length, unsigned streaming_width) {
  gp.set_command(cmd);
  gp.set_address(addr);
  gp.set_data_ptr(static_cast<unsigned char*>(data));
  gp.set_data_length(len);
  gp.set_streaming_width(streaming_width != 0 ? streaming_width : len);
  gp.set_byte_enable_ptr(const_cast<unsigned char*>(byte_enables));
  gp.set_byte_enable_length(byte_enable_length);
  gp.set_dmi_allowed(false);
  gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
}

// --- TlmMemory ---------------------------------------------------------------

TlmMemory::TlmMemory(const sc_core::sc_module_name& name, std::size_t size, sc_core::sc_time latency,
                     std::uint64_t base)
    : sc_module(name), target_socket("target_socket"), bytes(size), base(base), latency(latency) {
  target_socket.register_b_transport(this, &TlmMemory::b_transport);
  target_socket.register_transport_dbg(this, &TlmMemory::transport_dbg);
  target_socket.register_get_direct_mem_ptr(this, &TlmMemory::get_direct_mem_ptr);
}

void TlmMemory::write(std::uint64_t addr, const void* data, std::size_t len) {
  ASSERT_TRUE(addr >= base && addr - base + len <= bytes.size()) << std::hex << "backdoor write at 0x" << addr;
  std::memcpy(&bytes[addr - base], data, len);
}

void TlmMemory::read(std::uint64_t addr, void* data, std::size_t len) const {
  ASSERT_TRUE(addr >= base && addr - base + len <= bytes.size()) << std::hex << "backdoor read at 0x" << addr;
  std::memcpy(data, &bytes[addr - base], len);
}

bool TlmMemory::in_window(const tlm::tlm_generic_payload& gp) const {
  return gp.get_address() >= base && gp.get_address() - base <= bytes.size();
}

void TlmMemory::b_transport(int, tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  seen_addresses.push_back(gp.get_address());
  seen_delays.push_back(delay);
  delay += latency;
  if (synchronizes) {
    sc_core::wait(delay);
    delay = sc_core::SC_ZERO_TIME;
  }
  if (forced != tlm::TLM_OK_RESPONSE) {
    gp.set_response_status(forced);
    return;
  }
  if (!in_window(gp)) {
    gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  const std::uint64_t address = gp.get_address();
  gp.set_address(address - base);
  const auto status = tlmx::check_memory_access(gp, bytes.size());
  if (status == tlm::TLM_OK_RESPONSE) tlmx::copy_payload(gp, bytes.data());
  gp.set_address(address);
  gp.set_dmi_allowed(allow_dmi);
  gp.set_response_status(status);
}

unsigned TlmMemory::transport_dbg(int, tlm::tlm_generic_payload& gp) {
  if (!in_window(gp)) return 0;
  const std::uint64_t address = gp.get_address();
  gp.set_address(address - base);
  unsigned n = 0;
  if (tlmx::check_memory_access(gp, bytes.size()) == tlm::TLM_OK_RESPONSE) {
    tlmx::copy_payload(gp, bytes.data());
    n = gp.get_data_length();
  }
  gp.set_address(address);
  return n;
}

bool TlmMemory::get_direct_mem_ptr(int, tlm::tlm_generic_payload&, tlm::tlm_dmi& dmi) {
  if (!allow_dmi) return false;
  dmi.set_dmi_ptr(bytes.data());
  dmi.set_start_address(base);
  dmi.set_end_address(base + bytes.size() - 1);
  dmi.allow_read_write();
  dmi.set_read_latency(latency);
  dmi.set_write_latency(latency);
  return true;
}

// --- Initiator ---------------------------------------------------------------

Initiator::Initiator(const sc_core::sc_module_name& name) : sc_module(name), socket("socket") { quantum_.reset(); }

tlm::tlm_response_status Initiator::transport(tlm::tlm_command cmd, std::uint64_t addr, void* data, unsigned len,
                                              sc_core::sc_time& delay, const std::uint8_t* byte_enables,
                                              unsigned byte_enable_length, unsigned streaming_width) {
  tlm::tlm_generic_payload gp;
  fill_payload(gp, cmd, addr, data, len, byte_enables, byte_enable_length, streaming_width);
  socket->b_transport(gp, delay);
  EXPECT_EQ(gp.get_address(), addr) << "the address must come back as it was sent";
  return gp.get_response_status();
}

tlm::tlm_response_status Initiator::access(tlm::tlm_command cmd, std::uint64_t addr, void* data, unsigned len) {
  sc_core::sc_time delay = quantum_.get_local_time();
  const auto status = transport(cmd, addr, data, len, delay);
  last_delay_ = delay - quantum_.get_local_time();
  quantum_.set(delay);
  if (quantum_.need_sync()) quantum_.sync();
  return status;
}

void Initiator::write32(std::uint64_t addr, std::uint32_t value) {
  EXPECT_EQ(access(tlm::TLM_WRITE_COMMAND, addr, &value, 4), tlm::TLM_OK_RESPONSE) << std::hex << "write 0x" << addr;
  quantum_.sync();
}

std::uint32_t Initiator::read32(std::uint64_t addr) {
  std::uint32_t v = 0;
  EXPECT_EQ(access(tlm::TLM_READ_COMMAND, addr, &v, 4), tlm::TLM_OK_RESPONSE) << std::hex << "read 0x" << addr;
  quantum_.sync();
  return v;
}

unsigned Initiator::debug(tlm::tlm_command cmd, std::uint64_t addr, void* data, unsigned len) {
  tlm::tlm_generic_payload gp;
  fill_payload(gp, cmd, addr, data, len);
  return socket->transport_dbg(gp);
}

// --- IrqLine -----------------------------------------------------------------

bool IrqLine::wait_high(const sc_core::sc_time& timeout) {
  if (read()) return true;
  if (timeout == sc_core::SC_ZERO_TIME)
    sc_core::wait(posedge_event());
  else
    sc_core::wait(timeout, posedge_event());
  return read();
}

// --- Bench -------------------------------------------------------------------

Bench::Bench(const sc_core::sc_module_name& name) : sc_module(name) {
  SC_HAS_PROCESS(Bench);
  SC_THREAD(thread);
}

Bench::~Bench() {
  if (!finished_) ADD_FAILURE() << name() << ": the test body did not run to its end";
}

void Bench::run() {
  if (body) body();
}

void Bench::thread() {
  try {
    run();
  } catch (const std::exception& e) {
    ADD_FAILURE() << name() << ": the test body threw: " << e.what();
  }
  finished_ = true;
  if (stop_at_end_ && sc_core::sc_get_status() != sc_core::SC_STOPPED) sc_core::sc_stop();
}

}  // namespace npuvp::testing
