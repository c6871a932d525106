#pragma once
// noc_packets.csv (`npuvp run --traces packets`): every packet of a run as the
// fast NoC model timed it, in the order it timed them, under a header line
// that names the NoC it ran on. `npuvp noc-bench --replay` reads it back to
// time the same packets in the order they are ready, with either model.
//
//   # npuvp noc packets: mesh 4x4, flit_bytes 32, router_cycles 2, link_cycles 1, buffer_flits 8, virtual_channels 2
//   src,dst,flits,ready_cycle,done_cycle,multicast
//   0,5,33,773279,773329,0
//
// A multicast is one row per destination, consecutive, numbered alike from 1;
// a unicast's number is 0.

#include <cstdio>
#include <string>
#include <vector>

#include "models/noc/fast_model.h"

namespace npuvp::platform {

class NocPacketLog : public noc::PacketSink {
 public:
  // Creates or truncates `path` and writes the header. Throws
  // std::runtime_error naming the file if it cannot be written.
  NocPacketLog(const std::string& path, const noc::NocConfig& noc);
  NocPacketLog(const NocPacketLog&) = delete;
  NocPacketLog& operator=(const NocPacketLog&) = delete;
  ~NocPacketLog() override;

  void packet(const noc::PacketRecord& record) override;
  // Flushes and closes the file; throws std::runtime_error naming it if a
  // write failed (a full disk).
  void close();

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
};

struct NocPacketTrace {
  noc::NocConfig noc;  // the header's fields; the rest as NocConfig's defaults
  std::vector<noc::PacketRecord> packets;
};

// Reads a noc_packets.csv. Throws std::invalid_argument naming the file, the
// line and what was expected.
NocPacketTrace read_noc_packet_trace(const std::string& path);

}  // namespace npuvp::platform
