// Parameter groups, AdamW and amsgrad against torch.optim step for step
// (tests/reference/optim.txt); optimizer state_dicts: torch 1.13's layout and
// names (tests/reference/optim_state.json), an exact round trip, state_dicts
// saved by torch.save (tests/reference/{adam,sgd,lbfgs}_state_dict.pt), and the
// errors of load_state_dict. All written by scripts/make_optim_reference.py.
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "nn/checkpoint.h"
#include "nn/optim.h"
#include "tests/optim_reference.h"
#include "weights/json.h"

using namespace sg;
using namespace sg::test;

namespace {

// The Rosenbrock function of two parameters: the first two and the last two coordinates.
Tensor rosenbrock_split(const Tensor& a, const Tensor& b) { return rosenbrock(cat({a, b}, 0)); }

Tensor vec(const std::vector<double>& v) { return t64(v, {int64_t(v.size())}); }

// Two leaf parameters holding kRosenbrockStart's halves, of `dtype`.
std::pair<Tensor, Tensor> start_params(DType dtype = DType::f64) {
  Tensor a = from_vector({kRosenbrockStart[0], kRosenbrockStart[1]}, {2}, TensorOptions(dtype));
  Tensor b = from_vector({kRosenbrockStart[2], kRosenbrockStart[3]}, {2}, TensorOptions(dtype));
  a.requires_grad_();
  b.requires_grad_();
  return {a, b};
}

// One gradient step of a first-order optimizer on rosenbrock_split; returns the loss.
template <class Opt>
double first_order_step(Opt& opt, const Tensor& a, const Tensor& b) {
  opt.zero_grad();
  Tensor loss = rosenbrock_split(a, b);
  loss.backward();
  opt.step();
  return loss.item();
}

template <class Opt>
void check_groups(const std::string& name, std::vector<typename Opt::Group> groups, const Tensor& a, const Tensor& b) {
  INFO(name);
  auto ref = load_optim_reference();
  Opt opt(std::move(groups));
  std::vector<double> losses;
  for (int i = 0; i < 15; ++i) losses.push_back(first_order_step(opt, a, b));
  check_close(vec(losses), vec(ref[name + "_losses"]), 1e-10, 1e-12);
  check_close(a.detach(), vec(ref[name + "_final_a"]), 1e-10, 1e-12);
  check_close(b.detach(), vec(ref[name + "_final_b"]), 1e-10, 1e-12);
}

// A state_dict as it comes back from a file: the JSON through text, the tensors copied.
nn::StateDict through_text(const nn::StateDict& sd) {
  nn::StateDict out;
  out.json = json::parse(json::write(sd.json));
  for (const auto& [name, t] : sd.tensors) out.tensors.emplace_back(name, t.detach().clone());
  return out;
}

json::Value read_json_file(const std::string& path) {
  std::ifstream f(path);
  REQUIRE_MESSAGE(f.good(), "missing " << path << " (run scripts/make_optim_reference.py)");
  std::stringstream text;
  text << f.rdbuf();
  return json::parse(text.str());
}

// Compares our state_dict with torch's as make_optim_reference.py describes it
// (tensors as {"shape": [...]}): the same group hyper-parameters with the same
// values (torch's implementation switches aside), the same state keys, tensor
// shapes and list lengths; what torch keeps as 0-d tensors we keep as numbers.
void check_layout(const std::string& name, const nn::StateDict& ours, const json::Value& torch) {
  INFO(name);
  const json::Value& our_groups = *ours.json.find("param_groups");
  const json::Value& torch_groups = *torch.find("param_groups");
  REQUIRE(our_groups.array.size() == torch_groups.array.size());
  for (size_t g = 0; g < our_groups.array.size(); ++g) {
    const json::Value& mine = our_groups.array[g];
    const json::Value& theirs = torch_groups.array[g];
    for (const auto& [key, v] : mine.object) {
      INFO("param_groups.", g, ".", key);
      REQUIRE(theirs.find(key));
      CHECK(json_identical(v, *theirs.find(key)));
    }
    for (const auto& [key, v] : theirs.object) {
      if (mine.find(key)) continue;
      INFO("torch's param_groups.", g, ".", key, " is not in ours");
      CHECK((key == "foreach" || key == "differentiable" || key == "capturable" || key == "fused" ||
             (key == "maximize" && v.is_bool() && !v.boolean)));
    }
  }
  // Our state per index: JSON scalars and tensors, lists ("old_dirs.3") counted.
  std::map<std::string, std::map<std::string, json::Value>> state;  // index -> key -> description
  for (const auto& [index, scalars] : ours.json.find("state")->object)
    for (const auto& [key, v] : scalars.object) state[index][key] = v;
  std::map<std::string, std::map<std::string, std::vector<Shape>>> lists;
  for (const auto& [tname, t] : ours.tensors) {
    const size_t d1 = tname.find('.'), d2 = tname.find('.', d1 + 1), d3 = tname.find('.', d2 + 1);
    REQUIRE(tname.substr(0, d1) == "state");
    const std::string index = tname.substr(d1 + 1, d2 - d1 - 1);
    if (d3 == std::string::npos) {
      std::vector<json::Value> shape;
      for (int64_t s : t.shape()) shape.push_back(json::make_int(s));
      state[index][tname.substr(d2 + 1)] = json::make_object({{"shape", json::make_array(shape)}});
    } else {
      lists[index][tname.substr(d2 + 1, d3 - d2 - 1)].push_back(t.shape());
    }
  }
  const json::Value& torch_state = *torch.find("state");
  CHECK(torch_state.object.size() == state.size());
  for (const auto& [index, entries] : torch_state.object) {
    INFO("state.", index);
    for (const auto& [key, v] : entries.object) {
      INFO("state.", index, ".", key);
      if (key == "al") continue;  // torch's scratch buffer for the two-loop recursion
      const bool is_scalar_tensor = v.is_object() && v.find("shape")->array.empty();
      const bool is_list_of_tensors = v.is_array() && !v.array.empty() && v.array[0].is_object() &&
                                      !v.array[0].find("shape")->array.empty();
      if (is_list_of_tensors) {
        REQUIRE(lists[index].count(key));
        CHECK(lists[index][key].size() == v.array.size());
        continue;
      }
      REQUIRE(state[index].count(key));
      const json::Value& mine = state[index][key];
      if (is_scalar_tensor) {
        CHECK(mine.is_number());
      } else if (v.is_array()) {  // ro: a list of 0-d tensors
        REQUIRE(mine.is_array());
        CHECK(mine.array.size() == v.array.size());
      } else if (v.is_object()) {  // a tensor: the same shape
        CHECK(json_identical(mine, v));
      } else {
        CHECK(mine.is_number());
        if (key == "func_evals" || key == "n_iter") CHECK(mine.number == v.number);
      }
    }
    size_t torch_keys = entries.object.size() - (entries.find("al") ? 1 : 0);
    CHECK(state[index].size() + lists[index].size() == torch_keys);
  }
}

}  // namespace

TEST_CASE("optim: AdamW and amsgrad match torch.optim") {
  check_first_order<nn::AdamW>("adamw", nn::AdamW::Options{0.05});
  check_first_order<nn::AdamW>("adamw_wd", nn::AdamW::Options{0.05, 0.8, 0.99, 1e-6, 0.1});
  nn::Adam::Options ams{0.05};
  ams.weight_decay = 0.1;
  ams.amsgrad = true;
  check_first_order<nn::Adam>("adam_amsgrad", ams);
  nn::AdamW::Options amsw{0.05};
  amsw.amsgrad = true;
  check_first_order<nn::AdamW>("adamw_amsgrad", amsw);
  CHECK(nn::AdamW::Options{}.weight_decay == 1e-2);  // torch's default
}

TEST_CASE("optim: two parameter groups with their own lr and weight_decay match torch.optim") {
  {
    auto [a, b] = start_params();
    nn::AdamW::Options ga{0.05}, gb{0.01};
    ga.weight_decay = 0.1;
    gb.weight_decay = 0.0;
    check_groups<nn::AdamW>("groups_adamw", {{{a}, ga}, {{b}, gb}}, a, b);
  }
  {
    auto [a, b] = start_params();
    nn::Adam::Options ga{0.05, 0.8, 0.99}, gb{0.02, 0.8, 0.99};
    gb.weight_decay = 0.1;
    check_groups<nn::Adam>("groups_adam", {{{a}, ga}, {{b}, gb}}, a, b);
  }
  {
    auto [a, b] = start_params();
    nn::SGD::Options ga{1e-3, 0.9}, gb{2e-3, 0.5, 0, 0.01};
    gb.nesterov = true;
    check_groups<nn::SGD>("groups_sgd", {{{a}, ga}, {{b}, gb}}, a, b);
  }
}

TEST_CASE("optim: groups are what was given, and set_lr changes one group") {
  auto [a, b] = start_params();
  nn::Adam opt({{{a}, nn::Adam::Options{0.1}}, {{b}, nn::Adam::Options{0.2}}});
  REQUIRE(opt.num_param_groups() == 2);
  CHECK(opt.lr(0) == 0.1);
  CHECK(opt.lr(1) == 0.2);
  opt.set_lr(1, 0.05);
  CHECK(opt.options(1).lr == 0.05);
  CHECK(opt.options(0).lr == 0.1);
  REQUIRE(opt.params().size() == 2);
  CHECK(opt.params()[1].impl() == b.impl());
  CHECK(error_of([&] { nn::SGD({{{a}, {}}, {{a}, {}}}); }).find("SGD: a parameter appears more than once") == 0);
}

TEST_CASE("optim: state_dict has torch 1.13's layout and names") {
  const json::Value torch = read_json_file(STYLEGRAD_SOURCE_DIR "/tests/reference/optim_state.json");
  auto three_steps = [](auto& opt, const Tensor& a, const Tensor& b) {
    for (int i = 0; i < 3; ++i) first_order_step(opt, a, b);
  };
  {
    auto [a, b] = start_params();
    nn::SGD::Options ga{1e-3, 0.9}, gb{0.01, 0.9};
    nn::SGD opt({{{a}, ga}, {{b}, gb}});
    three_steps(opt, a, b);
    check_layout("sgd", opt.state_dict(), *torch.find("sgd"));
  }
  {
    auto [a, b] = start_params();
    nn::Adam opt({{{a}, nn::Adam::Options{0.05}}, {{b}, nn::Adam::Options{0.01}}});
    three_steps(opt, a, b);
    check_layout("adam", opt.state_dict(), *torch.find("adam"));
  }
  {
    auto [a, b] = start_params();
    nn::Adam::Options o{0.05};
    o.amsgrad = true;
    nn::Adam opt({a, b}, o);
    three_steps(opt, a, b);
    check_layout("adam_amsgrad", opt.state_dict(), *torch.find("adam_amsgrad"));
  }
  {
    auto [a, b] = start_params();
    nn::AdamW::Options ga{0.05}, gb{0.05};
    gb.weight_decay = 0.1;
    nn::AdamW opt({{{a}, ga}, {{b}, gb}});
    three_steps(opt, a, b);
    check_layout("adamw", opt.state_dict(), *torch.find("adamw"));
  }
  {
    auto [a, b] = start_params();
    nn::LBFGS::Options o;
    o.max_iter = 4;
    o.history_size = 5;
    nn::LBFGS opt({a, b}, o);
    opt.step([&, a = a, b = b] {
      opt.zero_grad();
      Tensor loss = rosenbrock_split(a, b);
      loss.backward();
      return loss.item();
    });
    check_layout("lbfgs", opt.state_dict(), *torch.find("lbfgs"));
  }
}

namespace {

// N steps straight through vs N/2 steps, state_dict, a fresh optimizer made
// with other hyper-parameters, load_state_dict, N/2 steps: the parameters (and
// the final state_dict's tensors) must be identical bit for bit.
template <class Opt>
void check_round_trip(const std::string& name, const std::function<std::unique_ptr<Opt>(Tensor, Tensor, bool)>& make,
                      int steps) {
  INFO(name);
  auto run_steps = [](Opt& opt, const Tensor& a, const Tensor& b, int n) {
    for (int i = 0; i < n; ++i) {
      if constexpr (std::is_same_v<Opt, nn::LBFGS>) {
        opt.step([&] {
          opt.zero_grad();
          Tensor loss = rosenbrock_split(a, b);
          loss.backward();
          return loss.item();
        });
      } else {
        first_order_step(opt, a, b);
      }
    }
  };
  auto [a1, b1] = start_params(DType::f32);
  std::unique_ptr<Opt> straight = make(a1, b1, false);
  run_steps(*straight, a1, b1, steps);

  auto [a2, b2] = start_params(DType::f32);
  std::unique_ptr<Opt> first = make(a2, b2, false);
  run_steps(*first, a2, b2, steps / 2);
  const nn::StateDict saved = through_text(first->state_dict());
  std::unique_ptr<Opt> second = make(a2, b2, true);  // other hyper-parameters: the state_dict brings them back
  second->load_state_dict(saved);
  CHECK(json::write(second->state_dict().json) == json::write(saved.json));
  run_steps(*second, a2, b2, steps - steps / 2);

  check_identical(a2.detach(), a1.detach(), name + ": a");
  check_identical(b2.detach(), b1.detach(), name + ": b");
  const nn::StateDict want = straight->state_dict(), got = second->state_dict();
  CHECK(json::write(got.json) == json::write(want.json));
  REQUIRE(got.tensors.size() == want.tensors.size());
  for (size_t i = 0; i < got.tensors.size(); ++i) {
    CHECK(got.tensors[i].first == want.tensors[i].first);
    check_identical(got.tensors[i].second, want.tensors[i].second, name + ": " + want.tensors[i].first);
  }
}

}  // namespace

TEST_CASE("optim: state_dict round trip continues bit for bit (SGD, Adam, AdamW, LBFGS)") {
  check_round_trip<nn::SGD>(
      "sgd",
      [](Tensor a, Tensor b, bool other) {
        nn::SGD::Options ga{other ? 0.5 : 1e-3, 0.9}, gb{2e-3, other ? 0.1 : 0.5, 0, 0.01};
        gb.nesterov = true;
        return std::make_unique<nn::SGD>(std::vector<nn::SGD::Group>{{{a}, ga}, {{b}, gb}});
      },
      10);
  check_round_trip<nn::Adam>(
      "adam",
      [](Tensor a, Tensor b, bool other) {
        nn::Adam::Options ga{other ? 0.5 : 0.05, 0.8, 0.99}, gb{0.02};
        gb.weight_decay = other ? 0 : 0.1;
        return std::make_unique<nn::Adam>(std::vector<nn::Adam::Group>{{{a}, ga}, {{b}, gb}});
      },
      10);
  check_round_trip<nn::AdamW>(
      "adamw amsgrad",
      [](Tensor a, Tensor b, bool other) {
        nn::AdamW::Options ga{0.05}, gb{0.01};
        ga.amsgrad = !other;
        gb.amsgrad = !other;
        gb.weight_decay = 0.2;
        return std::make_unique<nn::AdamW>(std::vector<nn::AdamW::Group>{{{a}, ga}, {{b}, gb}});
      },
      10);
  check_round_trip<nn::LBFGS>(
      "lbfgs",
      [](Tensor a, Tensor b, bool other) {
        nn::LBFGS::Options o;
        o.lr = other ? 0.1 : 0.5;
        o.max_iter = 3;
        o.history_size = other ? 50 : 4;  // fewer than the pairs it sees: the history is full and shifts
        return std::make_unique<nn::LBFGS>(std::vector<Tensor>{a, b}, o);
      },
      6);
}

namespace {

// tests/reference/<name>_state_dict.pt: torch's optimizer half-way through a
// run; loaded into a fresh optimizer (whose hyper-parameters must come from the
// file), the next `calls` steps from the same parameters must match torch's.
template <class Opt>
void check_torch_resume(const std::string& name, Opt& opt, const Tensor& a, const Tensor& b, int calls) {
  INFO(name);
  auto ref = load_optim_reference();
  opt.load_state_dict(
      nn::read_torch_optimizer_state_dict(STYLEGRAD_SOURCE_DIR "/tests/reference/" + name + "_state_dict.pt"));
  std::vector<double> losses;
  auto closure = [&] {
    opt.zero_grad();
    Tensor loss = rosenbrock_split(a, b);
    loss.backward();
    losses.push_back(loss.item());
    return loss.item();
  };
  for (int i = 0; i < calls; ++i) {
    if constexpr (std::is_same_v<Opt, nn::LBFGS>) opt.step(closure);
    else closure(), opt.step();
  }
  const std::string key = "torch_" + name;
  REQUIRE(losses.size() == ref[key + "_losses"].size());
  check_close(vec(losses), vec(ref[key + "_losses"]), 1e-9, 1e-12);
  check_close(a.detach(), vec(ref[key + "_a_final"]), 1e-9, 1e-12);
  check_close(b.detach(), vec(ref[key + "_b_final"]), 1e-9, 1e-12);
}

// The parameters torch had when it saved <name>_state_dict.pt.
std::pair<Tensor, Tensor> torch_start(const std::string& name) {
  auto ref = load_optim_reference();
  Tensor a = vec(ref["torch_" + name + "_a_start"]), b = vec(ref["torch_" + name + "_b_start"]);
  a.requires_grad_();
  b.requires_grad_();
  return {a, b};
}

}  // namespace

TEST_CASE("optim: state_dicts saved by torch.save continue as torch did (Adam, SGD, LBFGS)") {
  {
    auto [a, b] = torch_start("adam");
    nn::Adam opt({{{a}, {}}, {{b}, {}}});
    check_torch_resume("adam", opt, a, b, 5);
    CHECK(opt.options(0).lr == 0.05);  // from the file
    CHECK(opt.options(1).lr == 0.02);
    CHECK(opt.options(1).weight_decay == 0.1);
    CHECK(opt.options(0).beta1 == 0.8);
    CHECK(opt.steps(0) == 10);
  }
  {
    auto [a, b] = torch_start("sgd");  // momentum 0: torch saves momentum_buffer None
    nn::SGD opt({a, b}, nn::SGD::Options{0.5});
    check_torch_resume("sgd", opt, a, b, 5);
    CHECK(opt.options().lr == 1e-3);
  }
  {
    auto [a, b] = torch_start("lbfgs");  // lists of tensors, 0-d tensors, torch's scratch list 'al'
    nn::LBFGS opt({a, b}, {});
    check_torch_resume("lbfgs", opt, a, b, 1);
    CHECK(opt.options().max_iter == 4);
    CHECK(opt.options().history_size == 3);
    CHECK(opt.iterations() == 8);
  }
}

TEST_CASE("optim: load_state_dict refuses a state_dict that does not fit, naming the key") {
  auto [a, b] = start_params();
  nn::Adam two_groups({{{a}, {}}, {{b}, {}}});
  first_order_step(two_groups, a, b);
  const nn::StateDict good = two_groups.state_dict();

  auto fresh = [] {
    auto [c, d] = start_params();
    return std::make_unique<nn::Adam>(std::vector<nn::Adam::Group>{{{c}, {}}, {{d}, {}}});
  };
  auto error_loading = [&](const nn::StateDict& sd) { return error_of([&] { fresh()->load_state_dict(sd); }); };
  CHECK(error_loading(good).empty());

  {
    auto [c, d] = start_params();
    nn::Adam one_group({c, d});
    CHECK(error_of([&] { one_group.load_state_dict(good); }) ==
          "Adam.load_state_dict: 'param_groups' has 2 groups, this optimizer has 1");
    nn::SGD sgd({{{c}, {}}, {{d}, {}}});
    CHECK(error_of([&] { sgd.load_state_dict(good); }) ==
          "SGD.load_state_dict: 'param_groups.0.momentum' is missing");
  }
  {
    Tensor c = t64({1, 2, 3}, {3});
    c.requires_grad_();
    auto [e, d] = start_params();
    nn::Adam other_shape({{{c}, {}}, {{d}, {}}});
    CHECK(error_of([&] { other_shape.load_state_dict(good); }) ==
          "Adam.load_state_dict: tensor 'state.0.exp_avg' has shape [2], parameter 0 has [3]");
    nn::Adam other_size({{{c, e}, {}}, {{d}, {}}});
    CHECK(error_of([&] { other_size.load_state_dict(good); }) ==
          "Adam.load_state_dict: 'param_groups.0.params' lists 1 parameters, group 0 of this optimizer has 2");
  }
  nn::StateDict missing = good;
  missing.tensors.erase(missing.tensors.begin() + 1);  // state.0.exp_avg_sq
  CHECK(error_loading(missing) == "Adam.load_state_dict: tensor 'state.0.exp_avg_sq' is missing");
  nn::StateDict extra = good;
  extra.tensors.emplace_back("state.1.momentum_buffer", zeros({2}));
  CHECK(error_loading(extra) == "Adam.load_state_dict: unexpected tensor 'state.1.momentum_buffer'");
  nn::StateDict stray = good;
  stray.tensors.emplace_back("state.7.exp_avg", zeros({2}));
  CHECK(error_loading(stray) == "Adam.load_state_dict: tensor 'state.7' names no parameter of 'param_groups'");
  nn::StateDict no_lr = good;
  auto& group0 = no_lr.json.object[1].second.array[0].object;  // {"state": ..., "param_groups": [...]}
  group0.erase(group0.begin());
  CHECK(error_loading(no_lr) == "Adam.load_state_dict: 'param_groups.0.lr' is missing");
  nn::StateDict unknown = good;
  unknown.json.object[1].second.array[1].object.emplace_back("momentum", json::make_number(0.9));
  CHECK(error_loading(unknown) ==
        "Adam.load_state_dict: 'param_groups.1.momentum' is not a hyper-parameter of this optimizer");
  nn::StateDict bad_step = good;
  bad_step.json.object[0].second.object[0].second.object[0].second = json::make_string("five");
  CHECK(error_loading(bad_step) == "Adam.load_state_dict: 'state.0.step' must be an integer, got a string");

  // A failed load changes nothing.
  auto target = fresh();
  const std::string before = json::write(target->state_dict().json);
  CHECK(!error_of([&] { target->load_state_dict(missing); }).empty());
  CHECK(json::write(target->state_dict().json) == before);
}

TEST_CASE("json: write gives text that parses back to the same values") {
  const double tricky[] = {0.1, 1e-8, 0.999, 1.0 / 3.0, 5e-324, 1.7976931348623157e308, -0.0, 123456789.0, 2e-3};
  std::vector<json::Value> items;
  for (double x : tricky) items.push_back(json::make_number(x));
  items.push_back(json::make_int(-9007199254740993));  // not a double: kept as digits
  const json::Value v = json::make_object({{"a", json::make_array(items)},
                                           {"s", json::make_string("q\"\n\\")},
                                           {"t", json::make_bool(true)},
                                           {"n", json::make_null()}});
  const std::string text = json::write(v);
  const json::Value back = json::parse(text);
  REQUIRE(back.find("a")->array.size() == items.size());
  for (size_t i = 0; i < std::size(tricky); ++i)
    CHECK(std::memcmp(&back.find("a")->array[i].number, &tricky[i], sizeof(double)) == 0);
  CHECK(json::to_int64(back.find("a")->array.back()) == -9007199254740993);
  CHECK(back.find("s")->string == "q\"\n\\");
  CHECK(json::write(back) == text);
  CHECK(json::write(json::make_object()) == "{}");
  CHECK(error_of([] { json::make_number(1.0 / 0.0); }).find("json: cannot write the non-finite number") == 0);
  CHECK(error_of([] { json::write(json::make_object({{"k", json::make_null()}, {"k", json::make_null()}})); }) ==
        "json: cannot write the duplicate key \"k\"");
}
