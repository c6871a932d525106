#pragma once
// Generic payloads kept by an initiator for its next transactions. SystemC's
// tlm_generic_payload allocates and clears its extension array when built
// and walks and frees it when destroyed, which cost more than a short
// transaction's own setup when every access built one on the stack.

#include <memory>
#include <utility>
#include <vector>

#include <tlm>

namespace npuvp::tlmx {

class PayloadPool {
 public:
  // A payload in the state a default-constructed one has, returned to the
  // pool (its extensions freed, as its destructor would) when the lease ends.
  class Lease {
   public:
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { pool_.release(std::move(gp_)); }
    tlm::tlm_generic_payload& operator*() const { return *gp_; }
    tlm::tlm_generic_payload* operator->() const { return gp_.get(); }

   private:
    friend class PayloadPool;
    Lease(PayloadPool& pool, std::unique_ptr<tlm::tlm_generic_payload> gp) : pool_(pool), gp_(std::move(gp)) {}
    PayloadPool& pool_;
    std::unique_ptr<tlm::tlm_generic_payload> gp_;
  };

  // Leases may overlap (a transaction waiting while another starts): each
  // gets a payload of its own.
  Lease acquire() {
    if (free_.empty()) return Lease(*this, std::make_unique<tlm::tlm_generic_payload>());
    std::unique_ptr<tlm::tlm_generic_payload> gp = std::move(free_.back());
    free_.pop_back();
    return Lease(*this, std::move(gp));
  }

  std::size_t idle() const { return free_.size(); }

 private:
  void release(std::unique_ptr<tlm::tlm_generic_payload> gp) {
    gp->free_all_extensions();
    gp->set_command(tlm::TLM_IGNORE_COMMAND);
    gp->set_address(0);
    gp->set_data_ptr(nullptr);
    gp->set_data_length(0);
    gp->set_streaming_width(0);
    gp->set_byte_enable_ptr(nullptr);
    gp->set_byte_enable_length(0);
    gp->set_dmi_allowed(false);
    gp->set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    gp->set_gp_option(tlm::TLM_MIN_PAYLOAD);
    free_.push_back(std::move(gp));
  }

  std::vector<std::unique_ptr<tlm::tlm_generic_payload>> free_;
};

}  // namespace npuvp::tlmx
