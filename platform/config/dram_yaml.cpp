#include "platform/config/dram_yaml.h"

#include <filesystem>
#include <stdexcept>

namespace npuvp::config {
namespace {

unsigned uint_in(const ConfigNode& n, const std::string& key, std::int64_t lo, std::int64_t hi) {
  return static_cast<unsigned>(n.get_int_in(key, lo, hi));
}

dram::RailCurrents currents(const ConfigNode& n) {
  n.reject_unknown({"idd0", "idd2n", "idd3n", "idd4r", "idd4w", "idd5", "idd5pb"});
  auto ma = [&](const char* key) {
    const double v = n.get_double(key);
    if (v < 0) n.fail(key, "a non-negative current in mA");
    return v;
  };
  dram::RailCurrents c;
  c.idd0 = ma("idd0");
  c.idd2n = ma("idd2n");
  c.idd3n = ma("idd3n");
  c.idd4r = ma("idd4r");
  c.idd4w = ma("idd4w");
  c.idd5 = ma("idd5");
  c.idd5pb = ma("idd5pb");
  return c;
}

}  // namespace

dram::Memspec load_memspec(const std::string& file) {
  const ConfigNode root = ConfigNode::load_file(file);
  root.reject_unknown({"name", "geometry", "timing", "commands", "power"});
  dram::Memspec m;
  m.name = root.get_string("name");

  const ConfigNode g = root.child("geometry");
  g.reject_unknown({"banks", "rows", "columns", "width_bits", "burst_length"});
  m.banks = uint_in(g, "banks", 1, 64);
  m.rows = uint_in(g, "rows", 1, 1 << 24);
  m.columns = uint_in(g, "columns", 1, 1 << 16);
  m.width_bits = uint_in(g, "width_bits", 8, 32);
  m.burst_length = uint_in(g, "burst_length", 16, 32);

  const ConfigNode t = root.child("timing");
  t.reject_unknown({"tck_ns", "rl",   "wl",  "tdqsck", "trcd", "trppb", "trpab", "tras",   "trc",    "trrd",
                    "tfaw",   "tccd", "twr", "twtr",   "trtp", "twpre", "trpst", "trfcab", "trfcpb", "trefi"});
  m.tck_ns = t.get_positive("tck_ns");
  const std::int64_t big = 1 << 20;
  m.rl = uint_in(t, "rl", 1, 1024);
  m.wl = uint_in(t, "wl", 1, 1024);
  m.tdqsck = uint_in(t, "tdqsck", 0, 1024);
  m.trcd = uint_in(t, "trcd", 1, big);
  m.trppb = uint_in(t, "trppb", 1, big);
  m.trpab = uint_in(t, "trpab", 1, big);
  m.tras = uint_in(t, "tras", 1, big);
  m.trc = uint_in(t, "trc", 1, big);
  m.trrd = uint_in(t, "trrd", 1, big);
  m.tfaw = uint_in(t, "tfaw", 1, big);
  m.tccd = uint_in(t, "tccd", 1, big);
  m.twr = uint_in(t, "twr", 1, big);
  m.twtr = uint_in(t, "twtr", 1, big);
  m.trtp = uint_in(t, "trtp", 1, big);
  m.twpre = uint_in(t, "twpre", 0, 64);
  m.trpst = uint_in(t, "trpst", 0, 64);
  m.trfcab = uint_in(t, "trfcab", 1, big);
  m.trfcpb = uint_in(t, "trfcpb", 1, big);
  m.trefi = uint_in(t, "trefi", 1, big);

  const ConfigNode c = root.child("commands");
  c.reject_unknown({"act", "cas", "pre", "ref"});
  m.act_cycles = uint_in(c, "act", 1, 16);
  m.cas_cycles = uint_in(c, "cas", 1, 16);
  m.pre_cycles = uint_in(c, "pre", 1, 16);
  m.ref_cycles = uint_in(c, "ref", 1, 16);

  const ConfigNode p = root.child("power");
  p.reject_unknown({"vdd1", "vdd2", "vddq", "vdd1_ma", "vdd2_ma", "io_capacitance_pf", "io_activity"});
  m.vdd1 = p.get_positive("vdd1");
  m.vdd2 = p.get_positive("vdd2");
  m.vddq = p.get_positive("vddq");
  m.vdd1_currents = currents(p.child("vdd1_ma"));
  m.vdd2_currents = currents(p.child("vdd2_ma"));
  m.io_capacitance_pf = p.get_double("io_capacitance_pf");
  m.io_activity = p.get_double("io_activity");

  try {
    m.validate();
  } catch (const std::invalid_argument& e) {
    // Memspec names the field ("trc: expected ..."); place it in its section.
    const std::string what = e.what();
    const auto colon = what.find(':');
    const std::string field = what.substr(0, colon);
    std::string section = "power";
    for (const ConfigNode* s : {&g, &t, &c})
      if (s->has(field)) section = s->path();
    throw ConfigError(file + ": key '" + section + "." + field + "'" + what.substr(colon));
  }
  return m;
}

dram::DramConfig parse_dram(const ConfigNode& n) {
  n.reject_unknown({"memspec", "channels", "mapping", "page_policy", "queue_depth", "per_bank_refresh", "backing_mib",
                    "channel_interleave_bytes", "max_wait_ns", "write_high_watermark", "write_low_watermark",
                    "allow_dmi", "power_window_ns", "protocol_check"});
  dram::DramConfig c;
  c.memspec = n.read_file_of("memspec", load_memspec);
  c.channels = uint_in(n, "channels", 1, 64);
  c.mapping = n.get_choice("mapping", {"rbc", "brc"}, "rbc") == "rbc" ? dram::AddressMapping::kRowBankColumn
                                                                      : dram::AddressMapping::kBankRowColumn;
  c.page_policy = n.get_choice("page_policy", {"open", "closed"}, "open") == "open" ? dram::PagePolicy::kOpen
                                                                                    : dram::PagePolicy::kClosed;
  c.queue_depth = static_cast<unsigned>(n.get_int_in("queue_depth", 1, 1024, c.queue_depth));
  c.per_bank_refresh = n.get_bool("per_bank_refresh", c.per_bank_refresh);
  c.channel_interleave_bytes =
      static_cast<unsigned>(n.get_int_in("channel_interleave_bytes", 1, 1 << 20, c.channel_interleave_bytes));
  c.max_wait_ns = n.get_positive("max_wait_ns", c.max_wait_ns);
  c.write_high_watermark =
      static_cast<unsigned>(n.get_int_in("write_high_watermark", 0, 1 << 16, c.write_high_watermark));
  c.write_low_watermark = static_cast<unsigned>(n.get_int_in("write_low_watermark", 0, 1 << 16, c.write_low_watermark));
  c.allow_dmi = n.get_bool("allow_dmi", c.allow_dmi);
  c.protocol_check = n.get_bool("protocol_check", c.protocol_check);
  c.power_window_ns = n.get_positive("power_window_ns", c.power_window_ns);

  const std::uint64_t capacity_mib = c.capacity_bytes() >> 20;
  c.backing_bytes =
      std::uint64_t(n.get_int_in("backing_mib", 1, std::int64_t(capacity_mib), std::int64_t(c.backing_bytes >> 20)))
      << 20;

  // What remains is a cross-field rule (e.g. the interleave against the burst
  // and page sizes); name the key the message starts with.
  try {
    c.validate();
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    const std::string key = what.substr(0, what.find(':'));
    throw ConfigError(n.source(n.key_path(key)) + ": key '" + n.key_path(key) +
                      "': " + what.substr(what.find(':') + 2));
  }
  return c;
}

}  // namespace npuvp::config
