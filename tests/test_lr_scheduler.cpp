// The learning-rate schedulers against torch.optim.lr_scheduler, bit for bit,
// epoch by epoch (tests/reference/lr_scheduler.json, written by
// scripts/make_scheduler_reference.py); their state_dicts: torch's keys and
// values half-way, and a round trip into fresh objects that continues exactly.
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "nn/lr_scheduler.h"
#include "nn/optim.h"
#include "tests/test_util.h"
#include "weights/json.h"

using namespace sg;
using namespace sg::test;
using Plateau = nn::ReduceLROnPlateau;

namespace {

json::Value load_reference() {
  std::ifstream f(STYLEGRAD_SOURCE_DIR "/tests/reference/lr_scheduler.json");
  REQUIRE_MESSAGE(f.good(), "missing tests/reference/lr_scheduler.json (run scripts/make_scheduler_reference.py)");
  std::stringstream text;
  text << f.rdbuf();
  return json::parse(text.str());
}

// The optimizer of the reference script: SGD with two groups, lr 0.1 and 0.02.
std::unique_ptr<nn::SGD> make_optimizer(double lr0 = 0.1, double lr1 = 0.02) {
  Tensor a = zeros({2}), b = zeros({3});
  a.requires_grad_();
  b.requires_grad_();
  return std::make_unique<nn::SGD>(
      std::vector<nn::SGD::Group>{{{a}, nn::SGD::Options{lr0}}, {{b}, nn::SGD::Options{lr1}}});
}

// The scheduler of each reference case, as scripts/make_scheduler_reference.py makes it.
std::unique_ptr<nn::Scheduler> make_scheduler(const std::string& name, nn::Optimizer& opt) {
  using P = Plateau::Options;
  if (name == "lambda_exp")
    return std::make_unique<nn::LambdaLR>(opt, [](int64_t e) { return std::pow(0.95, double(e)); });
  if (name == "lambda_per_group")
    return std::make_unique<nn::LambdaLR>(
        opt, std::vector<nn::LambdaLR::Lambda>{[](int64_t e) { return std::pow(0.95, double(e)); },
                                               [](int64_t e) { return 1.0 / double(e + 1); }});
  if (name == "cyclegan_linear") return std::make_unique<nn::LambdaLR>(opt, nn::cyclegan_linear_rule(1, 8, 12));
  if (name == "cyclegan_linear_resumed") return std::make_unique<nn::LambdaLR>(opt, nn::cyclegan_linear_rule(5, 8, 12));
  if (name == "step") return std::make_unique<nn::StepLR>(opt, 3, 0.5);
  if (name == "step_default_gamma") return std::make_unique<nn::StepLR>(opt, 4);
  if (name == "cosine") return std::make_unique<nn::CosineAnnealingLR>(opt, 5, 0.001);
  if (name == "cosine_long") return std::make_unique<nn::CosineAnnealingLR>(opt, 7);
  if (name == "cosine_resumed") {
    for (size_t g = 0; g < opt.num_param_groups(); ++g) opt.set_initial_lr(g, opt.lr(g) * 2);
    return std::make_unique<nn::CosineAnnealingLR>(opt, 6, 0.0, 2);
  }
  P o;
  if (name == "plateau_min_rel") {
    o.factor = 0.5;
    o.patience = 2;
    o.threshold = 0.01;
    o.cooldown = 1;
    o.min_lrs = {0.001, 0.004};
  } else if (name == "plateau_max_abs") {
    o.mode = P::Mode::max;
    o.factor = 0.2;
    o.patience = 1;
    o.threshold = 0.05;
    o.threshold_mode = P::ThresholdMode::abs;
    o.min_lr = 0.002;
    o.eps = 1e-3;
  } else if (name == "plateau_cyclegan") {
    o.factor = 0.2;
    o.threshold = 0.01;
    o.patience = 5;
  } else if (name == "plateau_min_abs") {
    o.factor = 0.3;
    o.patience = 0;
    o.threshold = 0.02;
    o.threshold_mode = P::ThresholdMode::abs;
    o.cooldown = 2;
  } else if (name == "plateau_max_rel") {
    o.mode = P::Mode::max;
    o.patience = 3;
    o.threshold = 0.1;
  } else {
    FAIL("no such case ", name);
  }
  return std::make_unique<Plateau>(opt, o);
}

void step(nn::Scheduler& s, const json::Value& c, size_t epoch) {
  if (auto* p = dynamic_cast<Plateau*>(&s)) p->step(c.find("metrics")->array.at(epoch).number);
  else dynamic_cast<nn::LRScheduler&>(s).step();
}

// The optimizer's lr of each group must be torch's, bit for bit.
void check_lrs(const nn::Optimizer& opt, const json::Value& want, const std::string& where) {
  INFO(where);
  REQUIRE(want.array.size() == opt.num_param_groups());
  for (size_t g = 0; g < opt.num_param_groups(); ++g) {
    INFO("group ", g, ": got ", opt.lr(g), ", torch ", want.array[g].number);
    const double got = opt.lr(g);
    CHECK(std::memcmp(&got, &want.array[g].number, sizeof(double)) == 0);
  }
}

}  // namespace

TEST_CASE("lr_scheduler: every scheduler's learning rates match torch's bit for bit") {
  const json::Value ref = load_reference();
  REQUIRE(ref.object.size() == 14);
  for (const auto& [name, c] : ref.object) {
    INFO(name);
    auto opt = make_optimizer();
    auto sched = make_scheduler(name, *opt);
    const json::Value& lrs = *c.find("lrs");
    check_lrs(*opt, lrs.array[0], name + " after construction");
    for (size_t e = 0; e + 1 < lrs.array.size(); ++e) {
      step(*sched, c, e);
      check_lrs(*opt, lrs.array[e + 1], name + " after step " + std::to_string(e + 1));
      const std::vector<double>& last = sched->get_last_lr();
      REQUIRE(last.size() == 2);
      CHECK(last[0] == opt->lr(0));
      CHECK(last[1] == opt->lr(1));
    }
  }
}

TEST_CASE("lr_scheduler: state_dict has torch's keys and values, and a round trip continues exactly") {
  const json::Value ref = load_reference();
  for (const auto& [name, c] : ref.object) {
    INFO(name);
    const size_t mid = size_t(c.find("mid")->number);
    const json::Value& lrs = *c.find("lrs");
    auto opt = make_optimizer();
    auto sched = make_scheduler(name, *opt);
    for (size_t e = 0; e < mid; ++e) step(*sched, c, e);

    // The same state_dict as torch's, key for key and bit for bit.
    const json::Value mine = sched->state_dict();
    const json::Value& torch = *c.find("state_mid");
    for (const auto& [key, v] : torch.object) {
      INFO("torch's key ", key);
      REQUIRE(mine.find(key));
      CHECK(json_identical(*mine.find(key), v));
    }
    CHECK(mine.object.size() == torch.object.size());

    // Into fresh objects (other lrs, a fresh scheduler that has taken its first step), through text.
    const json::Value sched_state = json::parse(json::write(mine));
    nn::StateDict opt_state = opt->state_dict();
    opt_state.json = json::parse(json::write(opt_state.json));
    auto opt2 = make_optimizer(0.7, 0.3);
    auto sched2 = make_scheduler(name, *opt2);
    opt2->load_state_dict(opt_state);
    sched2->load_state_dict(sched_state);
    CHECK(json::write(sched2->state_dict()) == json::write(mine));
    check_lrs(*opt2, lrs.array[mid], name + " after loading");
    for (size_t e = mid; e + 1 < lrs.array.size(); ++e) {
      step(*sched2, c, e);
      check_lrs(*opt2, lrs.array[e + 1], name + " resumed, after step " + std::to_string(e + 1));
    }
  }
}

TEST_CASE("lr_scheduler: the CycleGAN linear rule") {
  // 1 - max(0, epoch + epoch_count - n_epochs) / (n_epochs_decay + 1)
  auto rule = nn::cyclegan_linear_rule(1, 100, 100);
  CHECK(rule(0) == 1.0);
  CHECK(rule(99) == 1.0);
  CHECK(rule(100) == 1.0 - 1.0 / 101.0);
  CHECK(rule(199) == 1.0 - 100.0 / 101.0);
  auto resumed = nn::cyclegan_linear_rule(51, 100, 100);  // --epoch_count 51: epoch 0 of this run is epoch 51
  CHECK(resumed(49) == 1.0);
  CHECK(resumed(50) == 1.0 - 1.0 / 101.0);
}

TEST_CASE("lr_scheduler: bad arguments and state_dicts are refused with one line") {
  auto opt = make_optimizer();
  CHECK(error_of([&] { (void)nn::StepLR(*opt, 3, 0.1, 4); }) ==
        "StepLR: param_groups[0] has no initial_lr, which resuming at last_epoch 4 needs");
  CHECK(error_of([&] { (void)nn::StepLR(*opt, 0); }) == "StepLR: step_size must be positive, got 0");
  CHECK(error_of([&] { (void)nn::LambdaLR(*opt, std::vector<nn::LambdaLR::Lambda>{[](int64_t) { return 1.0; }}); }) ==
        "LambdaLR: expected 2 lr_lambdas (one per parameter group), got 1");
  Plateau::Options bad;
  bad.factor = 1.0;
  CHECK(error_of([&] { (void)Plateau(*opt, bad); }) == "ReduceLROnPlateau: factor must be < 1, got 1");

  nn::StepLR step_lr(*opt, 3);
  CHECK(opt->initial_lr(0) == 0.1);
  CHECK(step_lr.base_lrs() == std::vector<double>{0.1, 0.02});
  json::Value state = step_lr.state_dict();
  json::Value one_group = state;
  for (auto& [key, v] : one_group.object)
    if (key == "base_lrs") v.array.pop_back();
  CHECK(error_of([&] { step_lr.load_state_dict(one_group); }) ==
        "StepLR.load_state_dict: 'base_lrs' has 1 values, the optimizer has 2 parameter groups");
  json::Value extra = state;
  extra.object.emplace_back("milestones", json::make_array());
  CHECK(error_of([&] { step_lr.load_state_dict(extra); }) == "StepLR.load_state_dict: unexpected key 'milestones'");
  json::Value missing = state;
  missing.object.erase(missing.object.begin());  // step_size
  CHECK(error_of([&] { step_lr.load_state_dict(missing); }) == "StepLR.load_state_dict: 'step_size' is missing");

  nn::LambdaLR lambda(*opt, [](int64_t) { return 1.0; });
  json::Value with_object = lambda.state_dict();
  for (auto& [key, v] : with_object.object)
    if (key == "lr_lambdas") v.array[1] = json::make_object();
  CHECK(error_of([&] { lambda.load_state_dict(with_object); }) ==
        "LambdaLR.load_state_dict: 'lr_lambdas.1' holds a callable object's state; stylegrad's lambdas have none");

  Plateau plateau(*opt);
  CHECK(plateau.get_last_lr().empty());  // as torch: no _last_lr before the first step
  json::Value p = plateau.state_dict();
  CHECK(p.find("best")->string == "Infinity");
  CHECK(!p.find("_last_lr"));
  for (auto& [key, v] : p.object)
    if (key == "mode") v.string = "mid";
  CHECK(error_of([&] { plateau.load_state_dict(p); }) ==
        "ReduceLROnPlateau.load_state_dict: 'mode' must be \"min\" or \"max\"");
  plateau.step(1.0);
  CHECK(plateau.best() == 1.0);
  CHECK(plateau.state_dict().find("_last_lr"));
}
