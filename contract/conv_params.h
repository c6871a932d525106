#pragma once
// The window geometry of a convolution or pooling layer, one struct for every
// stage that means the same thing by it: the network IR, the reference
// kernels, the lowering, the LayerCommand (command_format.h converts to and
// from it) and the firmware's cluster jobs. Plain ints, so that the host can
// hold values a command field cannot; window_fields says which fit.

namespace npuvp::contract {

// Rows and columns of padding around the input (the zero point, real 0).
struct Padding {
  int top = 0, left = 0, bottom = 0, right = 0;

  static Padding uniform(int p) { return {p, p, p, p}; }
  static Padding symmetric(int ph, int pw) { return {ph, pw, ph, pw}; }
  bool any() const { return (top | left | bottom | right) != 0; }
};

inline bool operator==(const Padding& a, const Padding& b) {
  return a.top == b.top && a.left == b.left && a.bottom == b.bottom && a.right == b.right;
}

// What every sliding window has; pooling needs no more.
struct Window {
  int kernel_h = 1, kernel_w = 1;
  int stride_h = 1, stride_w = 1;
  Padding pad;

  // What most layers ask: a square kernel, one stride and even padding.
  void set_square(int kernel, int stride, int padding) {
    kernel_h = kernel_w = kernel;
    stride_h = stride_w = stride;
    pad = Padding::uniform(padding);
  }
};

// Output pixel (oy, ox), tap (ky, kx) reads input (oy * stride_h - pad.top +
// ky * dilation_h, likewise x). Group g of `groups` maps in_c / groups input
// channels to out_c / groups output channels; depthwise is groups == in_c.
struct ConvWindow : Window {
  int dilation_h = 1, dilation_w = 1;
  int groups = 1;
};

// LayerCommand and ClusterJob hold the window in narrower fields of these
// names (window_fields in command_format.h says what fits); the groups only
// the command, as the job's group_in/group_out depend on its channels.
template <class Descriptor>
void write_window_fields(Descriptor& d, const ConvWindow& w) {
  d.kernel_h = static_cast<decltype(d.kernel_h)>(w.kernel_h);
  d.kernel_w = static_cast<decltype(d.kernel_w)>(w.kernel_w);
  d.stride_h = static_cast<decltype(d.stride_h)>(w.stride_h);
  d.stride_w = static_cast<decltype(d.stride_w)>(w.stride_w);
  d.dilation_h = static_cast<decltype(d.dilation_h)>(w.dilation_h);
  d.dilation_w = static_cast<decltype(d.dilation_w)>(w.dilation_w);
  d.pad_top = static_cast<decltype(d.pad_top)>(w.pad.top);
  d.pad_left = static_cast<decltype(d.pad_left)>(w.pad.left);
  d.pad_bottom = static_cast<decltype(d.pad_bottom)>(w.pad.bottom);
  d.pad_right = static_cast<decltype(d.pad_right)>(w.pad.right);
}

}  // namespace npuvp::contract
