#include "models/common/timeline_recorder.h"

#include <gtest/gtest.h>

namespace npuvp::trace {
namespace {

using sc_core::SC_NS;
using sc_core::sc_time;

TEST(TimelineRecorder, KeepsSlicesInRecordingOrder) {
  TimelineRecorder rec;
  rec.slice("npu.layers", "conv1", "layer", sc_time(0, SC_NS), sc_time(100, SC_NS));
  rec.slice("dma.ch0", "rd 4096 B", "dma", sc_time(10, SC_NS), sc_time(30, SC_NS));
  ASSERT_EQ(rec.slices().size(), 2u);
  EXPECT_EQ(rec.slices()[1].track, "dma.ch0");
  EXPECT_EQ(rec.slices()[1].name, "rd 4096 B");
  EXPECT_EQ(rec.slices()[1].category, "dma");
  EXPECT_EQ(rec.slices()[1].start, sc_time(10, SC_NS));
  EXPECT_EQ(rec.slices()[1].end, sc_time(30, SC_NS));
  EXPECT_FALSE(rec.truncated());
}

TEST(TimelineRecorder, StopsAtTheSizeLimitAndCountsWhatItDropped) {
  TimelineRecorder rec(TimelineOptions{2});
  for (int i = 0; i < 5; ++i) rec.slice("t", "s", "c", sc_time(i, SC_NS), sc_time(i + 1, SC_NS));
  EXPECT_EQ(rec.slices().size(), 2u);
  EXPECT_TRUE(rec.truncated());
  EXPECT_EQ(rec.dropped(), 3u);
}

TEST(TimelineRecorder, RejectsASliceEndingBeforeItStarts) {
  TimelineRecorder rec;
  EXPECT_THROW(rec.slice("npu.cluster0", "tile 1", "tile", sc_time(5, SC_NS), sc_time(4, SC_NS)),
               std::invalid_argument);
  EXPECT_TRUE(rec.slices().empty());
}

TEST(TimelineTrack, RecordsOnlyOnceBound) {
  TimelineRecorder rec;
  TimelineTrack track;
  EXPECT_FALSE(track.bound());
  track.slice("ignored", "tile", sc_time(0, SC_NS), sc_time(1, SC_NS));
  track.bind(rec, "npu.cluster2");
  EXPECT_TRUE(track.bound());
  track.slice("tile 0", "tile", sc_time(1, SC_NS), sc_time(2, SC_NS));
  ASSERT_EQ(rec.slices().size(), 1u);
  EXPECT_EQ(rec.slices()[0].track, "npu.cluster2");
  EXPECT_EQ(rec.slices()[0].name, "tile 0");
}

}  // namespace
}  // namespace npuvp::trace
