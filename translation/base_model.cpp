#include "translation/base_model.h"

#include "nn/lr_scheduler.h"
#include "nn/module.h"
#include "nn/optim.h"
#include "tensor/error.h"

namespace sg::translation {

void set_requires_grad(std::initializer_list<nn::Module*> nets, bool requires_grad) {
  for (nn::Module* net : nets)
    if (net) net->requires_grad_(requires_grad);
}

BaseModel::BaseModel(std::string model_name, bool is_train)
    : model_name_(std::move(model_name)), is_train_(is_train) {}

BaseModel::~BaseModel() = default;

std::vector<std::pair<std::string, nn::Optimizer*>> BaseModel::named_optimizers() const {
  if (!is_train_) return {};
  return {{"optimizer_G", optimizer_G.get()}, {"optimizer_D", optimizer_D.get()}};
}

void BaseModel::to(DType dtype) {
  SG_CHECK(schedulers.empty(), model_name_, ".to: call it before setup_schedulers (it makes the optimizers anew)");
  for (auto& [name, net] : named_networks()) net->to(dtype);
  if (is_train_) make_optimizers();
}

void BaseModel::to(Device device) {
  SG_CHECK(schedulers.empty(), model_name_, ".to: call it before setup_schedulers (it makes the optimizers anew)");
  for (auto& [name, net] : named_networks()) net->to(device);
  if (is_train_) make_optimizers();
}

void BaseModel::setup_schedulers(const SchedulerOptions& options) {
  SG_CHECK(is_train_, model_name_, ".setup_schedulers: the model was built with isTrain false");
  schedulers.clear();
  for (auto& [name, optimizer] : named_optimizers())  // "optimizer_G" -> "scheduler_G"
    schedulers.emplace_back("scheduler" + name.substr(name.find('_')), get_scheduler(*optimizer, options));
}

std::pair<double, double> BaseModel::update_learning_rate(double metric) {
  SG_CHECK(!schedulers.empty(), model_name_, ".update_learning_rate: call setup_schedulers first");
  std::vector<nn::Scheduler*> all;
  for (auto& [name, scheduler] : schedulers) all.push_back(scheduler.get());
  return translation::update_learning_rate(all, *optimizer_G, metric);
}

nn::Checkpoint BaseModel::checkpoint() const {
  nn::Checkpoint c;
  c.modules = named_networks();
  c.optimizers = named_optimizers();
  for (auto& [name, scheduler] : schedulers) c.schedulers.push_back({name, scheduler.get()});
  return c;
}

}  // namespace sg::translation
