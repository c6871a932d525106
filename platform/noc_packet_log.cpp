#include "platform/noc_packet_log.h"

#include <cerrno>
#include <cinttypes>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace npuvp::platform {

namespace {

constexpr const char* kColumns = "src,dst,flits,ready_cycle,done_cycle,multicast";
constexpr std::uint64_t kMaxCycle = std::uint64_t{1} << 48;

// The header's fields in order, each with the NocConfig member it fills.
struct HeaderField {
  const char* name;
  unsigned noc::NocConfig::*member;
};
constexpr HeaderField kHeaderFields[] = {{"flit_bytes", &noc::NocConfig::flit_bytes},
                                         {"router_cycles", &noc::NocConfig::router_cycles},
                                         {"link_cycles", &noc::NocConfig::link_cycles},
                                         {"buffer_flits", &noc::NocConfig::buffer_flits},
                                         {"virtual_channels", &noc::NocConfig::virtual_channels}};

std::string header_line(const noc::NocConfig& noc) {
  std::string line = "# npuvp noc packets: mesh " + std::to_string(noc.width) + "x" + std::to_string(noc.height);
  for (const HeaderField& f : kHeaderFields) line += std::string(", ") + f.name + " " + std::to_string(noc.*f.member);
  return line;
}

}  // namespace

NocPacketLog::NocPacketLog(const std::string& path, const noc::NocConfig& noc) : path_(path) {
  file_ = std::fopen(path.c_str(), "w");
  if (file_ == nullptr) throw std::runtime_error(path + ": cannot be written: " + std::strerror(errno));
  // Rows are short and many: a large buffer keeps the writes few.
  std::setvbuf(file_, nullptr, _IOFBF, std::size_t{1} << 20);
  std::fprintf(file_, "%s\n%s\n", header_line(noc).c_str(), kColumns);
}

NocPacketLog::~NocPacketLog() {
  if (file_ != nullptr) std::fclose(file_);
}

void NocPacketLog::packet(const noc::PacketRecord& r) {
  std::fprintf(file_, "%" PRIu32 ",%" PRIu32 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n", r.src, r.dst,
               r.flits, r.ready, r.done, r.multicast);
}

void NocPacketLog::close() {
  if (file_ == nullptr) return;
  const bool failed = std::ferror(file_) != 0;
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (failed || !closed) throw std::runtime_error(path_ + ": writing the NoC packet trace failed");
}

NocPacketTrace read_noc_packet_trace(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument(path + ": cannot be read");
  NocPacketTrace trace;
  const auto bad = [&](std::size_t line, const std::string& expected, const std::string& got) {
    return std::invalid_argument(path + ":" + std::to_string(line) + ": expected " + expected + ", got '" + got + "'");
  };
  std::string text;
  std::getline(in, text);
  {
    // The header is the writer's line with the numbers read back.
    std::istringstream h(text);
    std::string word;
    char x = 0, comma = 0;
    const std::string expected = "a header like '" + header_line(noc::NocConfig{}) + "'";
    if (!(h >> word) || word != "#" || !(h >> word) || word != "npuvp" || !(h >> word) || word != "noc" ||
        !(h >> word) || word != "packets:" || !(h >> word) || word != "mesh" || !(h >> trace.noc.width >> x) ||
        x != 'x' || !(h >> trace.noc.height))
      throw bad(1, expected, text);
    for (const HeaderField& f : kHeaderFields)
      if (!(h >> comma) || comma != ',' || !(h >> word) || word != f.name || !(h >> trace.noc.*f.member))
        throw bad(1, expected, text);
    if (h >> word) throw bad(1, expected, text);
    try {
      noc::validate(trace.noc);
    } catch (const noc::NocConfigError& e) {
      throw std::invalid_argument(path + ":1: the header's NoC: key '" + e.key() + "': expected " + e.expected());
    }
  }
  std::getline(in, text);
  if (text != kColumns) throw bad(2, std::string("the columns '") + kColumns + "'", text);
  for (std::size_t line = 3; std::getline(in, text); ++line) {
    noc::PacketRecord r{};
    char tail = 0;
    if (std::sscanf(text.c_str(), "%" SCNu32 ",%" SCNu32 ",%" SCNu64 ",%" SCNu64 ",%" SCNu64 ",%" SCNu64 "%c", &r.src,
                    &r.dst, &r.flits, &r.ready, &r.done, &r.multicast, &tail) != 6 ||
        text.find('-') != std::string::npos)
      throw bad(line, "six unsigned integers: " + std::string(kColumns), text);
    const unsigned nodes = trace.noc.width * trace.noc.height;
    if (r.src >= nodes || r.dst >= nodes)
      throw bad(line, "nodes below " + std::to_string(nodes) + " (the header's mesh)", text);
    if (r.flits == 0 || r.done < r.ready) throw bad(line, "at least one flit and done_cycle >= ready_cycle", text);
    // Far from wrapping when a replay adds a packet's latency to it.
    if (r.done >= kMaxCycle || r.flits >= kMaxCycle) throw bad(line, "cycles and flits below 2^48", text);
    trace.packets.push_back(r);
  }
  return trace;
}

}  // namespace npuvp::platform
