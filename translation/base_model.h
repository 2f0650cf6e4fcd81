// What CycleGAN, pix2pix and CUT share from models/base_model.py: one Adam for
// the generators and one for the discriminators (CUT adds optimizer_F), a
// scheduler for each optimizer, set_requires_grad, and the names under which a
// checkpoint keeps the networks, optimizers and schedulers.
#pragma once
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nn/checkpoint.h"
#include "tensor/device.h"
#include "tensor/dtype.h"
#include "translation/scheduler.h"

namespace sg::nn {
class Module;
class Adam;
class Scheduler;
}  // namespace sg::nn

namespace sg::translation {

// BaseModel.set_requires_grad(nets, requires_grad): turns every parameter of
// `nets` on or off, so that G's step computes no gradients for D.
void set_requires_grad(std::initializer_list<nn::Module*> nets, bool requires_grad);

class BaseModel {
 public:
  virtual ~BaseModel();

  // model_names with their networks (the generators only when not training).
  virtual std::vector<std::pair<std::string, nn::Module*>> named_networks() const = 0;
  // The official self.optimizers, named: optimizer_G, optimizer_D (none when
  // not training); a model with more optimizers (CUT's optimizer_F) adds them.
  virtual std::vector<std::pair<std::string, nn::Optimizer*>> named_optimizers() const;

  // Converts the networks to `dtype` (float32 | float64) and makes the optimizers
  // anew (Adam's state is per dtype): call it before setup_schedulers and the first step.
  void to(DType dtype);
  // Moves the networks to `device` and makes the optimizers anew there; the
  // same rule: before setup_schedulers and the first step. set_input then takes
  // tensors on that device (translation/trainer.h moves each batch).
  void to(Device device);
  // BaseModel.setup's schedulers: get_scheduler for every optimizer of
  // named_optimizers(), named scheduler_G, scheduler_D (, scheduler_F).
  void setup_schedulers(const SchedulerOptions& options);
  // BaseModel.update_learning_rate(), once per epoch: steps every scheduler;
  // returns optimizer_G's lr (the official optimizers[0]) before and after.
  std::pair<double, double> update_learning_rate(double metric = 0.0);
  // A Checkpoint of the networks, optimizers and schedulers (once set up); no
  // generator, epoch 0, iteration 0. CycleGAN adds its image pools.
  virtual nn::Checkpoint checkpoint() const;

  std::unique_ptr<nn::Adam> optimizer_G, optimizer_D;
  // One per named_optimizers() entry, in that order; empty until setup_schedulers.
  std::vector<std::pair<std::string, std::unique_ptr<nn::Scheduler>>> schedulers;

 protected:
  BaseModel(std::string model_name, bool is_train);
  // One Adam for the generators, one for the discriminators (training only).
  virtual void make_optimizers() = 0;

  const std::string model_name_;  // "CycleGANModel", in messages
  const bool is_train_;
};

}  // namespace sg::translation
