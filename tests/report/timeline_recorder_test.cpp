#include "models/common/timeline_recorder.h"

#include <sstream>
#include <stdexcept>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace npuvp::trace {
namespace {

using sc_core::SC_NS;
using sc_core::sc_time;

// The events a recorder streamed, once closed.
struct Streamed {
  std::ostringstream os;
  TimelineRecorder rec;
  explicit Streamed(TimelineOptions options = {}) : rec(options) { rec.stream_to(os); }
  std::vector<nlohmann::json> events(const std::string& ph) {
    rec.close();
    const auto document = nlohmann::json::parse(os.str());
    std::vector<nlohmann::json> out;
    for (const auto& e : document["traceEvents"])
      if (e["ph"] == ph) out.push_back(e);
    return out;
  }
};

TEST(TimelineRecorder, StreamsSlicesInRecordingOrderInMicroseconds) {
  Streamed s;
  s.rec.slice("npu.layers", "conv1", "layer", sc_time(0, SC_NS), sc_time(100, SC_NS));
  s.rec.slice("soc.npu.dma.ch0", "rd \"4096\" B", "dma", sc_time(10, SC_NS), sc_time(30, SC_NS));
  const auto slices = s.events("X");
  ASSERT_EQ(slices.size(), 2u);
  EXPECT_EQ(slices[1]["name"], "rd \"4096\" B");
  EXPECT_EQ(slices[1]["cat"], "dma");
  EXPECT_DOUBLE_EQ(slices[1]["ts"].get<double>(), 0.01);
  EXPECT_DOUBLE_EQ(slices[1]["dur"].get<double>(), 0.02);
  EXPECT_NE(slices[0]["pid"], slices[1]["pid"]) << "tracks group under the process their name starts with";
  EXPECT_FALSE(s.rec.truncated());
  const auto threads = s.events("M");
  EXPECT_EQ(std::count_if(threads.begin(), threads.end(), [](const auto& e) { return e["name"] == "thread_name"; }), 2);
}

// Args, shown by the viewer for a selected slice: numbers as numbers, text
// escaped; a slice without args has none.
TEST(TimelineRecorder, WritesASlicesArgsAsNumbersAndText) {
  std::ostringstream os;
  TimelineRecorder rec;
  rec.stream_to(os);
  rec.slice("soc.npu.dma.ch0", "transfer", "dma", sc_time(0, SC_NS), sc_time(20, SC_NS),
            {{"bytes", std::int64_t{4096}},
             {"descriptor", std::string("0x80\"1")},
             {"layer", std::int64_t{-1}},
             {"note", std::string("a\\b\tc\"")}});
  rec.slice("soc.npu.dma.ch0", "transfer", "dma", sc_time(20, SC_NS), sc_time(30, SC_NS));
  rec.close();
  const std::string text = os.str();
  EXPECT_NE(text.find(R"({"ph":"X","name":"transfer","cat":"dma","pid":1,"tid":1,"ts":0,"dur":0.02,)"
                      R"("args":{"bytes":4096,"descriptor":"0x80\"1","layer":-1,"note":"a\\b\u0009c\""}})"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"({"ph":"X","name":"transfer","cat":"dma","pid":1,"tid":1,"ts":0.02,"dur":0.01})"),
            std::string::npos)
      << text;
}

TEST(TimelineRecorder, StopsAtTheSizeLimitAndCountsWhatItDropped) {
  Streamed s(TimelineOptions{2});
  for (int i = 0; i < 5; ++i) s.rec.slice("t", "s", "c", sc_time(i, SC_NS), sc_time(i + 1, SC_NS));
  EXPECT_EQ(s.events("X").size(), 2u);
  EXPECT_TRUE(s.rec.truncated());
  EXPECT_EQ(s.rec.dropped(), 3u);
}

TEST(TimelineRecorder, KeepsOnlySlicesAndCountersOverlappingTheWindow) {
  TimelineOptions options;
  options.window_start = sc_time(100, SC_NS);
  options.window_end = sc_time(200, SC_NS);
  Streamed s(options);
  s.rec.slice("t", "before", "c", sc_time(0, SC_NS), sc_time(50, SC_NS));
  s.rec.slice("t", "across", "c", sc_time(90, SC_NS), sc_time(110, SC_NS));
  s.rec.slice("t", "after", "c", sc_time(250, SC_NS), sc_time(260, SC_NS));
  const auto total = s.rec.add_counter("power", "total", {"mw"});
  s.rec.counter(total, sc_time(50, SC_NS), {1.0});
  s.rec.counter(total, sc_time(150, SC_NS), {2.0});
  const auto slices = s.events("X");
  ASSERT_EQ(slices.size(), 1u);
  EXPECT_EQ(slices[0]["name"], "across");
  const auto counters = s.events("C");
  ASSERT_EQ(counters.size(), 1u);
  EXPECT_DOUBLE_EQ(counters[0]["args"]["mw"].get<double>(), 2.0);
}

// A counter's events share their head and series keys, rendered once; its
// process is named when the first event is written, after what came before.
TEST(TimelineRecorder, WritesCounterEventsWithTheirSeriesInOrder) {
  std::ostringstream os;
  TimelineRecorder rec;
  rec.stream_to(os);
  const auto power = rec.add_counter("power", "by \"part\"", {"mac_mw", "dram_mw"});
  rec.slice("npu.layers", "conv1", "layer", sc_time(0, SC_NS), sc_time(1, SC_NS));
  rec.counter(power, sc_time(0, SC_NS), {1.5, 0});
  rec.counter(power, sc_time(1500, SC_NS), {2, 0.25});
  EXPECT_THROW(rec.counter(power, sc_time(2000, SC_NS), {1}), std::invalid_argument);
  rec.close();
  const std::string text = os.str();
  EXPECT_NE(text.find("\n"
                      R"({"ph":"M","name":"process_name","pid":2,"args":{"name":"power"}},)"
                      "\n"
                      R"({"ph":"M","name":"process_sort_index","pid":2,"args":{"sort_index":2}},)"
                      "\n"
                      R"({"ph":"C","name":"by \"part\"","pid":2,"ts":0,"args":{"mac_mw":1.5,"dram_mw":0}},)"
                      "\n"
                      R"({"ph":"C","name":"by \"part\"","pid":2,"ts":1.5,"args":{"mac_mw":2,"dram_mw":0.25}})"
                      "\n]}"),
            std::string::npos)
      << text;
}

TEST(TimelineRecorder, RejectsASliceEndingBeforeItStarts) {
  Streamed s;
  EXPECT_THROW(s.rec.slice("npu.cluster0", "tile 1", "tile", sc_time(5, SC_NS), sc_time(4, SC_NS)),
               std::invalid_argument);
  EXPECT_TRUE(s.events("X").empty());
}

TEST(TimelineTrack, RecordsOnlyOnceBound) {
  Streamed s;
  TimelineTrack track;
  EXPECT_FALSE(track.bound());
  track.slice("ignored", "tile", sc_time(0, SC_NS), sc_time(1, SC_NS));
  track.bind(s.rec, "npu.cluster2");
  EXPECT_TRUE(track.bound());
  track.slice("tile 0", "tile", sc_time(1, SC_NS), sc_time(2, SC_NS));
  const auto slices = s.events("X");
  ASSERT_EQ(slices.size(), 1u);
  EXPECT_EQ(slices[0]["name"], "tile 0");
}

TEST(TimelineRecorder, AFailedWriteNamesTheFileAndTheCause) {
  TimelineRecorder rec;
  rec.stream_to("/dev/full");  // a disk that fills up
  rec.slice("npu.layers", "conv1", "layer", sc_time(0, SC_NS), sc_time(100, SC_NS));
  try {
    rec.close();
    ADD_FAILURE() << "a write to a full disk went unnoticed";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "cannot write /dev/full: No space left on device");
  }
}

}  // namespace
}  // namespace npuvp::trace
