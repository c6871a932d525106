#include <gtest/gtest.h>

#include "models/common/payload_pool.h"

namespace npuvp::tlmx {
namespace {

struct CountedExtension : tlm::tlm_extension<CountedExtension> {
  explicit CountedExtension(int& freed) : freed_(freed) {}
  tlm::tlm_extension_base* clone() const override { return new CountedExtension(freed_); }
  void copy_from(const tlm::tlm_extension_base&) override {}
  void free() override {
    ++freed_;
    delete this;
  }
  int& freed_;
};

void expect_as_constructed(const tlm::tlm_generic_payload& gp) {
  const tlm::tlm_generic_payload fresh;
  EXPECT_EQ(gp.get_command(), fresh.get_command());
  EXPECT_EQ(gp.get_address(), fresh.get_address());
  EXPECT_EQ(gp.get_data_ptr(), fresh.get_data_ptr());
  EXPECT_EQ(gp.get_data_length(), fresh.get_data_length());
  EXPECT_EQ(gp.get_streaming_width(), fresh.get_streaming_width());
  EXPECT_EQ(gp.get_byte_enable_ptr(), fresh.get_byte_enable_ptr());
  EXPECT_EQ(gp.get_byte_enable_length(), fresh.get_byte_enable_length());
  EXPECT_EQ(gp.is_dmi_allowed(), fresh.is_dmi_allowed());
  EXPECT_EQ(gp.get_response_status(), fresh.get_response_status());
  EXPECT_EQ(gp.get_gp_option(), fresh.get_gp_option());
  EXPECT_EQ(gp.get_extension<CountedExtension>(), nullptr);
}

TEST(PayloadPool, AReturnedPayloadIsReusedAsIfNewAndItsExtensionsFreed) {
  PayloadPool pool;
  int freed = 0;
  unsigned char data[8] = {}, enables[8] = {};
  const tlm::tlm_generic_payload* first = nullptr;
  {
    const auto lease = pool.acquire();
    first = &*lease;
    expect_as_constructed(*lease);
    lease->set_command(tlm::TLM_WRITE_COMMAND);
    lease->set_address(0x1234);
    lease->set_data_ptr(data);
    lease->set_data_length(8);
    lease->set_streaming_width(4);
    lease->set_byte_enable_ptr(enables);
    lease->set_byte_enable_length(8);
    lease->set_dmi_allowed(true);
    lease->set_response_status(tlm::TLM_OK_RESPONSE);
    lease->set_gp_option(tlm::TLM_FULL_PAYLOAD);
    lease->set_extension(new CountedExtension(freed));
  }
  EXPECT_EQ(freed, 1);
  EXPECT_EQ(pool.idle(), 1U);
  const auto again = pool.acquire();
  EXPECT_EQ(&*again, first);
  expect_as_constructed(*again);
  EXPECT_EQ(pool.idle(), 0U);
}

TEST(PayloadPool, OverlappingLeasesHoldDistinctPayloads) {
  PayloadPool pool;
  {
    const auto outer = pool.acquire();
    const auto inner = pool.acquire();
    EXPECT_NE(&*outer, &*inner);
    outer->set_address(1);
    inner->set_address(2);
    EXPECT_EQ(outer->get_address(), 1U);
  }
  EXPECT_EQ(pool.idle(), 2U);
}

}  // namespace
}  // namespace npuvp::tlmx
