// Whether ops record a graph. Off inside NoGradGuard, and during backward()
// unless create_graph is set (that is how higher-order gradients work: the
// backward formulas are ordinary ops, recorded only when asked).
#pragma once

namespace sg {

bool grad_mode_enabled();
void set_grad_mode(bool enabled);

class GradModeGuard {
 public:
  explicit GradModeGuard(bool enabled) : prev_(grad_mode_enabled()) { set_grad_mode(enabled); }
  ~GradModeGuard() { set_grad_mode(prev_); }
  GradModeGuard(const GradModeGuard&) = delete;
  GradModeGuard& operator=(const GradModeGuard&) = delete;

 private:
  bool prev_;
};

struct NoGradGuard : GradModeGuard {
  NoGradGuard() : GradModeGuard(false) {}
};

}  // namespace sg
