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
  SG_CHECK(!scheduler_G, model_name_, ".to: call it before setup_schedulers (it makes the optimizers anew)");
  for (auto& [name, net] : named_networks()) net->to(dtype);
  if (is_train_) make_optimizers();
}

void BaseModel::setup_schedulers(const SchedulerOptions& options) {
  SG_CHECK(is_train_, model_name_, ".setup_schedulers: the model was built with isTrain false");
  scheduler_G = get_scheduler(*optimizer_G, options);
  scheduler_D = get_scheduler(*optimizer_D, options);
}

std::pair<double, double> BaseModel::update_learning_rate(double metric) {
  SG_CHECK(scheduler_G && scheduler_D, model_name_, ".update_learning_rate: call setup_schedulers first");
  return translation::update_learning_rate({scheduler_G.get(), scheduler_D.get()}, *optimizer_G, metric);
}

nn::Checkpoint BaseModel::checkpoint() const {
  nn::Checkpoint c;
  c.modules = named_networks();
  c.optimizers = named_optimizers();
  if (scheduler_G) c.schedulers = {{"scheduler_G", scheduler_G.get()}, {"scheduler_D", scheduler_D.get()}};
  return c;
}

}  // namespace sg::translation
