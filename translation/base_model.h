// What CycleGAN and pix2pix share from models/base_model.py: one Adam for the
// generators and one for the discriminators, their schedulers, set_requires_grad,
// and the names under which a checkpoint keeps the networks and optimizers.
#pragma once
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nn/checkpoint.h"
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
  // optimizer_G, optimizer_D (none when not training).
  std::vector<std::pair<std::string, nn::Optimizer*>> named_optimizers() const;

  // Converts the networks to `dtype` (float32 | float64) and makes the optimizers
  // anew (Adam's state is per dtype): call it before setup_schedulers and the first step.
  void to(DType dtype);
  // BaseModel.setup's schedulers: get_scheduler for optimizer_G and optimizer_D.
  void setup_schedulers(const SchedulerOptions& options);
  // BaseModel.update_learning_rate(), once per epoch: (optimizer_G's lr before, after).
  std::pair<double, double> update_learning_rate(double metric = 0.0);
  // A Checkpoint of the networks, optimizers and schedulers (scheduler_G,
  // scheduler_D, once set up); no generator, epoch 0, iteration 0.
  virtual nn::Checkpoint checkpoint() const;

  std::unique_ptr<nn::Adam> optimizer_G, optimizer_D;
  std::unique_ptr<nn::Scheduler> scheduler_G, scheduler_D;  // null until setup_schedulers

 protected:
  BaseModel(std::string model_name, bool is_train);
  // One Adam for the generators, one for the discriminators (training only).
  virtual void make_optimizers() = 0;

  const std::string model_name_;  // "CycleGANModel", in messages
  const bool is_train_;
};

}  // namespace sg::translation
