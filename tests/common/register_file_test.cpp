#include <cstring>

#include <gtest/gtest.h>

#include "models/common/register_file.h"

namespace npuvp::regs {
namespace {

std::vector<RegisterSpec> specs() {
  return {{"CTRL", 0x0, 0x0, Access::kReadWrite, ""},
          {"STATUS", 0x4, 0x3, Access::kReadOnly, ""},
          {"IRQ", 0x8, 0x0, Access::kWriteOneToClear, ""},
          {"DOORBELL", 0xC, 0x0, Access::kWriteOnly, ""}};
}

tlm::tlm_response_status access(RegisterFile& rf, tlm::tlm_command cmd, std::uint64_t addr, std::uint32_t& v,
                                unsigned len = 4) {
  tlm::tlm_generic_payload gp;
  gp.set_command(cmd);
  gp.set_address(addr);
  gp.set_data_ptr(reinterpret_cast<unsigned char*>(&v));
  gp.set_data_length(len);
  return rf.access(gp);
}

TEST(RegisterFile, AccessRightsAndHooks) {
  RegisterFile rf("dev", specs());
  std::uint32_t v = 0;
  EXPECT_EQ(access(rf, tlm::TLM_READ_COMMAND, 0x4, v), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(v, 3u);
  v = 1;
  EXPECT_EQ(access(rf, tlm::TLM_WRITE_COMMAND, 0x4, v), tlm::TLM_COMMAND_ERROR_RESPONSE);
  EXPECT_EQ(access(rf, tlm::TLM_READ_COMMAND, 0xC, v), tlm::TLM_COMMAND_ERROR_RESPONSE);
  std::uint32_t rung = 0;
  rf.on_write(0xC, [&](std::uint32_t x) { rung = x; });
  v = 7;
  EXPECT_EQ(access(rf, tlm::TLM_WRITE_COMMAND, 0xC, v), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(rung, 7u);
  rf.set(0x8, 0b1011);
  v = 0b0011;
  EXPECT_EQ(access(rf, tlm::TLM_WRITE_COMMAND, 0x8, v), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(rf.get(0x8), 0b1000u);
}

TEST(RegisterFile, RejectsUnmappedUnalignedAndWrongSize) {
  RegisterFile rf("dev", specs());
  std::uint32_t v = 0;
  EXPECT_EQ(access(rf, tlm::TLM_READ_COMMAND, 0x10, v), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(access(rf, tlm::TLM_READ_COMMAND, 0x2, v), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(access(rf, tlm::TLM_READ_COMMAND, 0x0, v, 2), tlm::TLM_BURST_ERROR_RESPONSE);
}

TEST(RegisterFile, DuplicateOffsetIsRejected) {
  EXPECT_THROW(RegisterFile("dev", {{"A", 0, 0, Access::kReadWrite, ""}, {"B", 0, 0, Access::kReadWrite, ""}}),
               std::invalid_argument);
}

}  // namespace
}  // namespace npuvp::regs
