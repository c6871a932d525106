#include "sw/runtime/frontend/zoo.h"

#include <array>
#include <functional>
#include <stdexcept>

// Sources of the architectures (read, not copied; every builder below is our own):
// - torchvision 0.x models/{alexnet,vgg,resnet,squeezenet,mobilenetv2,shufflenetv2}.py
//   for alexnet, vgg16, resnet18, resnet50, squeezenet1_0/1_1, mobilenet_v2 and
//   shufflenet_v2_x1_0, layer by layer (AlexNet/VGG adaptive average pooling,
//   SqueezeNet ceil-mode max pools and conv classifier, ResNet v1.5 bottleneck
//   with the stride on the 3x3, MobileNetV2 inverted residuals, ShuffleNetV2
//   channel split + shuffle). Layer names follow torchvision's where practical.
// - mobilenet_v1: Howard et al. 2017, "MobileNets", Table 1 (standard 3x3 conv
//   then 13 depthwise-separable blocks, every conv followed by BatchNorm and
//   ReLU, no conv bias), classifier as in the Keras / TF-slim reference
//   implementations: global average pooling then a 1024 -> 1000 FC with bias.
//   Global pooling (instead of the paper's fixed 7x7 average pool, identical at
//   224x224) keeps the network fully convolutional for --input-size.
// - squeezenext: Gholami et al. 2018, 1.0-SqNxt-23, as released by the authors
//   (github amirgholami/SqueezeNext, 1.0-SqNxt-23/train_val.prototxt): 227x227
//   input, 7x7/2 conv without padding, 3x3/2 max pool (Caffe rounds up), 21
//   blocks in stages of [6, 6, 8, 1] with [32, 64, 128, 256] output channels,
//   convs without bias each followed by BatchNorm+Scale and ReLU, a 1x1
//   projection shortcut (with BN and ReLU) where the stride or channel count
//   changes, a final 1x1 conv to 128, global average pooling and an FC without
//   bias. The separable pair alternates order: odd blocks (1st, 3rd, ...) run
//   the 3x1 conv first, even blocks the 1x3 first (as the prototxt does; the
//   counts do not depend on it).
// - diracdeltanet: Yang et al., "Synetgy", FPGA'19, as released by the authors
//   (github Yang-YiFan/DiracDeltaNet, models/diracdeltanet.py with train.py's
//   defaults: base channels 116, expansion 2, blocks [4, 8, 4]): only 1x1 convs,
//   5-direction shifts, 2x2 max pools, channel split/concat and the
//   "shift-based" channel shuffle (a rotation of the channels by a quarter,
//   expressed here as two channel slices and a concat), a fixed 7x7 average
//   pool before the FC (so it is not fully convolutional).
// - resnet20_cifar: He et al. 2016, "Deep Residual Learning", Sec. 4.2: 3x3
//   conv to 16, three stages of 3 basic blocks with 16/32/64 channels, option A
//   (parameter-free) shortcuts: stride-2 subsampling (a 1x1 max pool with
//   stride 2) and zero channel padding (planes/4 each side, as the common
//   reference implementation does), global average pooling, FC to 10 classes.

namespace npuvp::runtime {
namespace {

constexpr TensorShape kImageNet224{3, 224, 224};

// Conv (no bias) -> BatchNorm -> optional activation; returns the last layer.
enum class Act { kNone, kRelu, kRelu6 };

int conv_bn(Network& n, const std::string& prefix, int x, Conv2dAttrs a, Act act) {
  x = n.conv(prefix + ".conv", x, a);
  x = n.bn(prefix + ".bn", x);
  if (act == Act::kRelu) x = n.relu(prefix + ".relu", x);
  if (act == Act::kRelu6) x = n.relu6(prefix + ".relu6", x);
  return x;
}

Conv2dAttrs square(int out_channels, int kernel, int stride, int pad, int groups = 1, bool bias = false) {
  Conv2dAttrs a;
  a.set_square(kernel, stride, pad);
  a.out_channels = out_channels;
  a.groups = groups;
  a.bias = bias;
  return a;
}

Conv2dAttrs rect(int out_channels, int kh, int kw, int ph, int pw) {
  Conv2dAttrs a;
  a.out_channels = out_channels;
  a.kernel_h = kh;
  a.kernel_w = kw;
  a.pad = Padding::symmetric(ph, pw);
  return a;
}

int channels(const Network& n, int layer) { return n.layer(layer).out_shape.c; }

// ---------------------------------------------------------------- AlexNet / VGG

Network alexnet() {
  Network n("alexnet", kImageNet224);
  int x = n.conv("features.0", 0, 64, 11, 4, 2, 1, true);
  x = n.relu("features.1", x);
  x = n.max_pool("features.2", x, 3, 2);
  x = n.conv("features.3", x, 192, 5, 1, 2, 1, true);
  x = n.relu("features.4", x);
  x = n.max_pool("features.5", x, 3, 2);
  x = n.conv("features.6", x, 384, 3, 1, 1, 1, true);
  x = n.relu("features.7", x);
  x = n.conv("features.8", x, 256, 3, 1, 1, 1, true);
  x = n.relu("features.9", x);
  x = n.conv("features.10", x, 256, 3, 1, 1, 1, true);
  x = n.relu("features.11", x);
  x = n.max_pool("features.12", x, 3, 2);
  x = n.adaptive_avg_pool("avgpool", x, 6, 6);
  x = n.flatten("flatten", x);
  x = n.fc("classifier.1", x, 4096);
  x = n.relu("classifier.2", x);
  x = n.fc("classifier.4", x, 4096);
  x = n.relu("classifier.5", x);
  n.fc("classifier.6", x, 1000);
  return n;
}

Network vgg16() {
  // Configuration "D" of Simonyan & Zisserman; 0 is a 2x2/2 max pool.
  constexpr std::array<int, 18> kCfg = {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0};
  Network n("vgg16", kImageNet224);
  int x = 0;
  int index = 0;
  for (int c : kCfg) {
    const std::string name = "features." + std::to_string(index);
    if (c == 0) {
      x = n.max_pool(name, x, 2, 2);
      index += 1;
    } else {
      x = n.conv(name, x, c, 3, 1, 1, 1, true);
      x = n.relu("features." + std::to_string(index + 1), x);
      index += 2;
    }
  }
  x = n.adaptive_avg_pool("avgpool", x, 7, 7);
  x = n.flatten("flatten", x);
  x = n.fc("classifier.0", x, 4096);
  x = n.relu("classifier.1", x);
  x = n.fc("classifier.3", x, 4096);
  x = n.relu("classifier.4", x);
  n.fc("classifier.6", x, 1000);
  return n;
}

// ---------------------------------------------------------------- SqueezeNet

int fire(Network& n, const std::string& name, int x, int squeeze, int e1, int e3) {
  int s = n.conv(name + ".squeeze", x, squeeze, 1, 1, 0, 1, true);
  s = n.relu(name + ".squeeze_activation", s);
  int a = n.conv(name + ".expand1x1", s, e1, 1, 1, 0, 1, true);
  a = n.relu(name + ".expand1x1_activation", a);
  int b = n.conv(name + ".expand3x3", s, e3, 3, 1, 1, 1, true);
  b = n.relu(name + ".expand3x3_activation", b);
  return n.concat(name + ".concat", {a, b});
}

int squeezenet_classifier(Network& n, int x) {
  x = n.conv("classifier.1", x, 1000, 1, 1, 0, 1, true);
  x = n.relu("classifier.2", x);
  x = n.global_avg_pool("classifier.3", x);  // AdaptiveAvgPool2d((1, 1))
  return n.flatten("flatten", x);
}

Network squeezenet1_0() {
  Network n("squeezenet1_0", kImageNet224);
  int x = n.conv("conv1", 0, 96, 7, 2, 0, 1, true);
  x = n.relu("conv1.relu", x);
  x = n.max_pool("maxpool1", x, 3, 2, 0, true);
  x = fire(n, "fire2", x, 16, 64, 64);
  x = fire(n, "fire3", x, 16, 64, 64);
  x = fire(n, "fire4", x, 32, 128, 128);
  x = n.max_pool("maxpool4", x, 3, 2, 0, true);
  x = fire(n, "fire5", x, 32, 128, 128);
  x = fire(n, "fire6", x, 48, 192, 192);
  x = fire(n, "fire7", x, 48, 192, 192);
  x = fire(n, "fire8", x, 64, 256, 256);
  x = n.max_pool("maxpool8", x, 3, 2, 0, true);
  x = fire(n, "fire9", x, 64, 256, 256);
  squeezenet_classifier(n, x);
  return n;
}

Network squeezenet1_1() {
  Network n("squeezenet1_1", kImageNet224);
  int x = n.conv("conv1", 0, 64, 3, 2, 0, 1, true);
  x = n.relu("conv1.relu", x);
  x = n.max_pool("maxpool1", x, 3, 2, 0, true);
  x = fire(n, "fire2", x, 16, 64, 64);
  x = fire(n, "fire3", x, 16, 64, 64);
  x = n.max_pool("maxpool3", x, 3, 2, 0, true);
  x = fire(n, "fire4", x, 32, 128, 128);
  x = fire(n, "fire5", x, 32, 128, 128);
  x = n.max_pool("maxpool5", x, 3, 2, 0, true);
  x = fire(n, "fire6", x, 48, 192, 192);
  x = fire(n, "fire7", x, 48, 192, 192);
  x = fire(n, "fire8", x, 64, 256, 256);
  x = fire(n, "fire9", x, 64, 256, 256);
  squeezenet_classifier(n, x);
  return n;
}

// ---------------------------------------------------------------- ResNet

Network resnet(const std::string& name, bool bottleneck, std::array<int, 4> blocks) {
  const int expansion = bottleneck ? 4 : 1;
  Network n(name, kImageNet224);
  int x = n.conv("conv1", 0, 64, 7, 2, 3);
  x = n.bn("bn1", x);
  x = n.relu("relu", x);
  x = n.max_pool("maxpool", x, 3, 2, 1);
  int inplanes = 64;
  for (int s = 0; s < 4; ++s) {
    const int planes = 64 << s;
    for (int b = 0; b < blocks[static_cast<std::size_t>(s)]; ++b) {
      const int stride = (s > 0 && b == 0) ? 2 : 1;
      const std::string p = "layer" + std::to_string(s + 1) + "." + std::to_string(b) + ".";
      int y = 0;
      if (bottleneck) {
        y = n.conv(p + "conv1", x, planes, 1);
        y = n.bn(p + "bn1", y);
        y = n.relu(p + "relu1", y);
        y = n.conv(p + "conv2", y, planes, 3, stride, 1);
        y = n.bn(p + "bn2", y);
        y = n.relu(p + "relu2", y);
        y = n.conv(p + "conv3", y, planes * expansion, 1);
        y = n.bn(p + "bn3", y);
      } else {
        y = n.conv(p + "conv1", x, planes, 3, stride, 1);
        y = n.bn(p + "bn1", y);
        y = n.relu(p + "relu1", y);
        y = n.conv(p + "conv2", y, planes, 3, 1, 1);
        y = n.bn(p + "bn2", y);
      }
      int identity = x;
      if (stride != 1 || inplanes != planes * expansion) {
        identity = n.conv(p + "downsample.0", x, planes * expansion, 1, stride);
        identity = n.bn(p + "downsample.1", identity);
      }
      x = n.add(p + "add", y, identity);
      x = n.relu(p + "relu", x);
      inplanes = planes * expansion;
    }
  }
  x = n.global_avg_pool("avgpool", x);  // AdaptiveAvgPool2d((1, 1))
  x = n.flatten("flatten", x);
  n.fc("fc", x, 1000);
  return n;
}

Network resnet20_cifar() {
  Network n("resnet20_cifar", {3, 32, 32});
  int x = n.conv("conv1", 0, 16, 3, 1, 1);
  x = n.bn("bn1", x);
  x = n.relu("relu", x);
  int inplanes = 16;
  for (int s = 0; s < 3; ++s) {
    const int planes = 16 << s;
    for (int b = 0; b < 3; ++b) {
      const int stride = (s > 0 && b == 0) ? 2 : 1;
      const std::string p = "layer" + std::to_string(s + 1) + "." + std::to_string(b) + ".";
      int y = n.conv(p + "conv1", x, planes, 3, stride, 1);
      y = n.bn(p + "bn1", y);
      y = n.relu(p + "relu1", y);
      y = n.conv(p + "conv2", y, planes, 3, 1, 1);
      y = n.bn(p + "bn2", y);
      int identity = x;
      if (stride != 1 || inplanes != planes) {
        identity = n.max_pool(p + "shortcut.subsample", x, 1, stride);
        identity = n.pad_channels(p + "shortcut.pad", identity, (planes - inplanes) / 2,
                                  planes - inplanes - (planes - inplanes) / 2);
      }
      x = n.add(p + "add", y, identity);
      x = n.relu(p + "relu", x);
      inplanes = planes;
    }
  }
  x = n.global_avg_pool("avgpool", x);
  x = n.flatten("flatten", x);
  n.fc("fc", x, 10);
  return n;
}

// ---------------------------------------------------------------- MobileNets

Network mobilenet_v1() {
  struct Block {
    int out, stride;
  };
  constexpr std::array<Block, 13> kBlocks = {{{64, 1},
                                              {128, 2},
                                              {128, 1},
                                              {256, 2},
                                              {256, 1},
                                              {512, 2},
                                              {512, 1},
                                              {512, 1},
                                              {512, 1},
                                              {512, 1},
                                              {512, 1},
                                              {1024, 2},
                                              {1024, 1}}};
  Network n("mobilenet_v1", kImageNet224);
  int x = conv_bn(n, "conv1", 0, square(32, 3, 2, 1), Act::kRelu);
  for (std::size_t i = 0; i < kBlocks.size(); ++i) {
    const std::string id = std::to_string(i + 1);
    const int c = channels(n, x);
    x = conv_bn(n, "conv_dw_" + id, x, square(c, 3, kBlocks[i].stride, 1, c), Act::kRelu);
    x = conv_bn(n, "conv_pw_" + id, x, square(kBlocks[i].out, 1, 1, 0), Act::kRelu);
  }
  x = n.global_avg_pool("avgpool", x);
  x = n.flatten("flatten", x);
  n.fc("fc", x, 1000);
  return n;
}

Network mobilenet_v2() {
  struct Setting {
    int t, c, n, s;
  };
  constexpr std::array<Setting, 7> kSettings = {
      {{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}}};
  Network n("mobilenet_v2", kImageNet224);
  int x = conv_bn(n, "features.0", 0, square(32, 3, 2, 1), Act::kRelu6);
  int index = 1;
  for (const auto& st : kSettings) {
    for (int i = 0; i < st.n; ++i) {
      const int stride = i == 0 ? st.s : 1;
      const std::string p = "features." + std::to_string(index++);
      const int in = channels(n, x);
      const int hidden = in * st.t;
      int y = x;
      if (st.t != 1) y = conv_bn(n, p + ".expand", y, square(hidden, 1, 1, 0), Act::kRelu6);
      y = conv_bn(n, p + ".dw", y, square(hidden, 3, stride, 1, hidden), Act::kRelu6);
      y = conv_bn(n, p + ".project", y, square(st.c, 1, 1, 0), Act::kNone);
      x = (stride == 1 && in == st.c) ? n.add(p + ".add", x, y) : y;
    }
  }
  x = conv_bn(n, "features." + std::to_string(index), x, square(1280, 1, 1, 0), Act::kRelu6);
  x = n.global_avg_pool("avgpool", x);
  x = n.flatten("flatten", x);
  n.fc("classifier.1", x, 1000);
  return n;
}

// ---------------------------------------------------------------- ShuffleNet V2

Network shufflenet_v2_x1_0() {
  constexpr std::array<int, 3> kRepeats = {4, 8, 4};
  constexpr std::array<int, 3> kChannels = {116, 232, 464};
  Network n("shufflenet_v2_x1_0", kImageNet224);
  int x = conv_bn(n, "conv1", 0, square(24, 3, 2, 1), Act::kRelu);
  x = n.max_pool("maxpool", x, 3, 2, 1);
  for (std::size_t s = 0; s < kRepeats.size(); ++s) {
    const int oup = kChannels[s];
    const int bf = oup / 2;
    for (int i = 0; i < kRepeats[s]; ++i) {
      const std::string p = "stage" + std::to_string(s + 2) + "." + std::to_string(i);
      const int inp = channels(n, x);
      int left = 0, right = 0;
      if (i == 0) {
        left = conv_bn(n, p + ".branch1.0", x, square(inp, 3, 2, 1, inp), Act::kNone);
        left = conv_bn(n, p + ".branch1.2", left, square(bf, 1, 1, 0), Act::kRelu);
        right = x;
      } else {
        left = n.slice_channels(p + ".split.0", x, 0, inp / 2);
        right = n.slice_channels(p + ".split.1", x, inp / 2, inp);
      }
      const int stride = i == 0 ? 2 : 1;
      right = conv_bn(n, p + ".branch2.0", right, square(bf, 1, 1, 0), Act::kRelu);
      right = conv_bn(n, p + ".branch2.3", right, square(bf, 3, stride, 1, bf), Act::kNone);
      right = conv_bn(n, p + ".branch2.5", right, square(bf, 1, 1, 0), Act::kRelu);
      x = n.concat(p + ".concat", {left, right});
      x = n.channel_shuffle(p + ".shuffle", x, 2);
    }
  }
  x = conv_bn(n, "conv5", x, square(1024, 1, 1, 0), Act::kRelu);
  x = n.global_avg_pool("mean", x);  // x.mean([2, 3])
  n.fc("fc", x, 1000);
  return n;
}

// ---------------------------------------------------------------- SqueezeNext

Network squeezenext() {
  constexpr std::array<int, 4> kBlocks = {6, 6, 8, 1};
  constexpr std::array<int, 4> kChannels = {32, 64, 128, 256};
  Network n("squeezenext", {3, 227, 227});
  int x = conv_bn(n, "conv1", 0, square(64, 7, 2, 0), Act::kRelu);
  x = n.max_pool("pool1", x, 3, 2, 0, true);
  int block = 0;
  for (std::size_t s = 0; s < kBlocks.size(); ++s) {
    for (int i = 0; i < kBlocks[s]; ++i) {
      ++block;
      const std::string p = "block" + std::to_string(block);
      const int in = channels(n, x);
      const int out = kChannels[s];
      const int stride = (s > 0 && i == 0) ? 2 : 1;
      const int reduction = stride == 2 ? 1 : (in > out ? 4 : 2);
      const int c1 = in / reduction;
      const int c2 = in / (2 * reduction);
      int y = conv_bn(n, p + ".squeeze1", x, square(c1, 1, stride, 0), Act::kRelu);
      y = conv_bn(n, p + ".squeeze2", y, square(c2, 1, 1, 0), Act::kRelu);
      const bool vertical_first = block % 2 == 1;
      const Conv2dAttrs v = rect(c1, 3, 1, 1, 0);
      const Conv2dAttrs h = rect(c1, 1, 3, 0, 1);
      y = conv_bn(n, p + (vertical_first ? ".conv3x1" : ".conv1x3"), y, vertical_first ? v : h, Act::kRelu);
      y = conv_bn(n, p + (vertical_first ? ".conv1x3" : ".conv3x1"), y, vertical_first ? h : v, Act::kRelu);
      y = conv_bn(n, p + ".expand", y, square(out, 1, 1, 0), Act::kRelu);
      int identity = x;
      if (stride != 1 || in != out) identity = conv_bn(n, p + ".shortcut", x, square(out, 1, stride, 0), Act::kRelu);
      x = n.add(p + ".add", identity, y);
      x = n.relu(p + ".relu", x);
    }
  }
  x = conv_bn(n, "conv_final", x, square(128, 1, 1, 0), Act::kRelu);
  x = n.global_avg_pool("pool5", x);
  n.fc("fc1000", x, 1000, false);
  return n;
}

// ---------------------------------------------------------------- DiracDeltaNet

Network diracdeltanet() {
  constexpr std::array<int, 3> kBlocks = {4, 8, 4};
  constexpr int kBase = 116;
  constexpr int kExpansion = 2;
  Network n("diracdeltanet", kImageNet224);
  int x = conv_bn(n, "conv1", 0, square(32, 1, 1, 0), Act::kRelu);
  x = n.max_pool("pool1", x, 2, 2, 1);
  x = n.shift("shift1", x, five_direction_shifts(32));
  x = conv_bn(n, "conv2", x, square(64, 1, 1, 0), Act::kRelu);
  x = n.max_pool("pool2", x, 2, 2, 1);
  x = n.shift("shift2", x, five_direction_shifts(64));
  for (std::size_t s = 0; s < kBlocks.size(); ++s) {
    const int planes = kBase << s;
    for (int i = 0; i < kBlocks[s]; ++i) {
      const std::string p = "layer" + std::to_string(s + 1) + "." + std::to_string(i);
      const int in = channels(n, x);
      const bool downsample = i == 0;  // stride 2 opens every stage
      const bool first_block = s == 0 && i == 0;
      const bool split = !downsample || first_block;
      const int out_b = planes / 2;
      const int mid = out_b * kExpansion;
      int left = x, right = x;
      if (split) {
        left = n.slice_channels(p + ".split.0", x, 0, in / 2);
        right = n.slice_channels(p + ".split.1", x, in / 2, in);
      }
      if (downsample) {
        left = n.max_pool(p + ".shortcut.pool", left, 2, 2);
        left = conv_bn(n, p + ".shortcut", left, square(out_b, 1, 1, 0), Act::kRelu);
      }
      // else: the identity half; the authors' ReLU on it is a no-op (its values
      // come from ReLUs) and is left out.
      right = conv_bn(n, p + ".conv1", right, square(mid, 1, 1, 0), Act::kRelu);
      if (downsample) right = n.max_pool(p + ".pool", right, 2, 2);
      right = n.shift(p + ".shift", right, five_direction_shifts(mid));
      right = conv_bn(n, p + ".conv3", right, square(out_b, 1, 1, 0), Act::kRelu);
      const int cat = n.concat(p + ".concat", {left, right});
      const int c = channels(n, cat);
      const int q = 3 * c / 4;
      const int tail = n.slice_channels(p + ".rotate.0", cat, q, c);
      const int head = n.slice_channels(p + ".rotate.1", cat, 0, q);
      x = n.concat(p + ".rotate", {tail, head});
    }
  }
  x = conv_bn(n, "conv3", x, square(1024, 1, 1, 0), Act::kRelu);
  x = n.avg_pool("avgpool", x, 7, 7);
  x = n.flatten("flatten", x);
  n.fc("linear", x, 1000);
  return n;
}

struct Builder {
  ZooEntry entry;
  std::function<Network()> build;
};

const std::vector<Builder>& builders() {
  static const std::vector<Builder> list = {
      {{"squeezenet1_0", "SqueezeNet 1.0 (Iandola et al. 2016; torchvision)", kImageNet224}, squeezenet1_0},
      {{"squeezenet1_1", "SqueezeNet 1.1 (torchvision)", kImageNet224}, squeezenet1_1},
      {{"mobilenet_v1", "MobileNet v1 1.0-224 (Howard et al. 2017)", kImageNet224}, mobilenet_v1},
      {{"mobilenet_v2", "MobileNet v2 1.0 (Sandler et al. 2018; torchvision)", kImageNet224}, mobilenet_v2},
      {{"resnet18", "ResNet-18 (He et al. 2016; torchvision)", kImageNet224},
       [] {
         return resnet("resnet18", false, {2, 2, 2, 2});
       }},
      {{"resnet50", "ResNet-50 v1.5 (torchvision)", kImageNet224},
       [] {
         return resnet("resnet50", true, {3, 4, 6, 3});
       }},
      {{"shufflenet_v2_x1_0", "ShuffleNet V2 1.0x (Ma et al. 2018; torchvision)", kImageNet224}, shufflenet_v2_x1_0},
      {{"squeezenext", "1.0-SqNxt-23 (Gholami et al. 2018; authors' Caffe release)", {3, 227, 227}}, squeezenext},
      {{"diracdeltanet", "DiracDeltaNet (Yang et al. 2019, Synetgy; authors' release)", kImageNet224}, diracdeltanet},
      {{"alexnet", "AlexNet (torchvision, one-GPU variant)", kImageNet224}, alexnet},
      {{"vgg16", "VGG-16 (Simonyan & Zisserman 2015; torchvision)", kImageNet224}, vgg16},
      {{"resnet20_cifar", "ResNet-20 for CIFAR-10, option-A shortcuts (He et al. 2016)", {3, 32, 32}}, resnet20_cifar},
  };
  return list;
}

}  // namespace

const std::vector<ZooEntry>& zoo_entries() {
  static const std::vector<ZooEntry> entries = [] {
    std::vector<ZooEntry> out;
    for (const auto& b : builders()) out.push_back(b.entry);
    return out;
  }();
  return entries;
}

std::vector<std::string> zoo_names() {
  std::vector<std::string> out;
  for (const auto& e : zoo_entries()) out.push_back(e.name);
  return out;
}

bool is_zoo_network(const std::string& name) {
  for (const auto& e : zoo_entries())
    if (e.name == name) return true;
  return false;
}

Network make_network(const std::string& name) {
  for (const auto& b : builders())
    if (b.entry.name == name) return b.build();
  std::string known;
  for (const auto& e : zoo_entries()) known += (known.empty() ? "" : ", ") + e.name;
  throw std::invalid_argument("unknown network '" + name + "' (known: " + known + ")");
}

nlohmann::json zoo_listing() {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& b : builders()) {
    const Network n = b.build();
    const TensorShape in = n.default_input_shape();
    out.push_back({{"name", b.entry.name},
                   {"description", b.entry.description},
                   {"input", {in.c, in.h, in.w}},
                   {"params", n.total_params()},
                   {"macs", n.total_macs()},
                   {"fully_convolutional", n.fully_convolutional()}});
  }
  return out;
}

}  // namespace npuvp::runtime
