#include "translation/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "data/datasets.h"
#include "io/atomic_file.h"
#include "io/html.h"
#include "io/image.h"
#include "models/cyclegan_networks.h"
#include "nn/module.h"
#include "ops/ops.h"
#include "tensor/error.h"
#include "tensor/random.h"
#include "translation/cut_model.h"
#include "translation/cycle_gan.h"
#include "translation/sincut_model.h"
#include "translation/pix2pix.h"
#include "weights/torch_save.h"

namespace sg::translation {

namespace {

namespace fs = std::filesystem;
using Losses = std::vector<std::pair<std::string, double>>;

template <class Model>
class ModelAdapter final : public TrainModel {
 public:
  explicit ModelAdapter(Model& m) : m_(m) {}
  void set_input(const Tensor& A, const Tensor& B) override { m_.set_input(A, B); }
  void optimize_parameters() override { m_.optimize_parameters(); }
  Losses current_losses() const override { return m_.current_losses(); }
  NamedTensors current_visuals() const override { return m_.current_visuals(); }
  void setup_schedulers(const SchedulerOptions& options) override { m_.setup_schedulers(options); }
  std::pair<double, double> update_learning_rate() override { return m_.update_learning_rate(); }
  std::vector<std::pair<std::string, nn::Module*>> named_networks() const override { return m_.named_networks(); }
  nn::Checkpoint checkpoint() const override { return m_.checkpoint(); }

 private:
  Model& m_;
};

std::string join(const std::string& a, const std::string& b) {
  return a.empty() || a.back() == '/' ? a + b : a + "/" + b;
}

std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char* fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return buf;
}

std::string read_file_or_empty(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// The DataLoader's default collate: batch_size items of `order` from `first`,
// concatenated along dim 0 (the paths are the first item's).
data::Sample collate(data::Dataset& dataset, const std::vector<int64_t>& order, int64_t first, int64_t batch_size) {
  data::Sample batch = dataset.get(order[size_t(first)]);
  if (batch_size == 1) return batch;
  std::vector<Tensor> As = {batch.A}, Bs = {batch.B};
  const auto add = [](std::vector<Tensor>& list, const Tensor& t, const std::string& path, const std::string& first_path) {
    const Tensor& f = list.front();
    SG_CHECK(t.shape() == f.shape(), "a batch's images must have one size: '", path, "' is ", t.size(3), "x",
             t.size(2), ", '", first_path, "' ", f.size(3), "x", f.size(2),
             " after --preprocess; use --batch_size 1 or a --preprocess that crops");
    list.push_back(t);
  };
  for (int64_t k = 1; k < batch_size; ++k) {
    const data::Sample s = dataset.get(order[size_t(first + k)]);
    add(As, s.A, s.A_path, batch.A_path);
    if (batch.B.defined()) add(Bs, s.B, s.B_path, batch.B_path);
  }
  batch.A = cat(As, 0);
  if (batch.B.defined()) batch.B = cat(Bs, 0);
  return batch;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// The first parameter or buffer of the model's networks that holds a NaN or inf, or "".
std::string first_non_finite(const TrainModel& model) {
  for (const auto& [name, net] : model.named_networks())
    for (const auto& [key, t] : net->state_dict()) {
      if (!is_floating(t.dtype())) continue;
      for (double v : t.to_vector())
        if (!std::isfinite(v)) return name + "." + key;
    }
  return "";
}

// util/visualizer.py: print_current_losses, display_current_results (HTML only:
// there is no visdom), and the loss log.
class Visualizer {
 public:
  Visualizer(const TrainerOptions& opt) : opt_(opt), log_name_(join(opt.expr_dir, "loss_log.txt")) {
    log_ = read_file_or_empty(log_name_);
    char now[128];
    const std::time_t t = std::time(nullptr);
    std::strftime(now, sizeof now, "%c", std::localtime(&t));
    log_ += format("================ Training Loss (%s) ================\n", now);
    write_file_atomic(log_name_, log_);
  }

  void reset() { saved_ = false; }

  std::string print_current_losses(int64_t epoch, int64_t iters, const Losses& losses, double t_comp, double t_data) {
    std::string message = format("(epoch: %lld, iters: %lld, time: %.3f, data: %.3f) ", (long long)epoch,
                                 (long long)iters, t_comp, t_data);
    for (const auto& [k, v] : losses) message += format("%s: %.3f ", k.c_str(), v);
    log_ += message + "\n";
    write_file_atomic(log_name_, log_);
    return message;
  }

  void display_current_results(const NamedTensors& visuals, int64_t epoch, bool save_result) {
    if (opt_.no_html || (!save_result && saved_)) return;
    saved_ = true;
    HtmlPage page(join(opt_.expr_dir, "web"), "Experiment name = " + opt_.name, 1);
    for (const auto& [label, image] : visuals)
      save_image(tensor_to_image_levels(image), join(page.image_dir(), image_name(epoch, label)));
    for (int64_t n = epoch; n > 0; --n) {
      page.add_header(format("epoch [%lld]", (long long)n));
      std::vector<std::string> ims, txts, links;
      for (const auto& [label, image] : visuals) {
        ims.push_back(image_name(n, label));
        txts.push_back(label);
        links.push_back(image_name(n, label));
      }
      page.add_images(ims, txts, links, int(opt_.display_winsize));
    }
    page.save();
  }

 private:
  static std::string image_name(int64_t epoch, const std::string& label) {
    return format("epoch%.3lld_%s.png", (long long)epoch, label.c_str());
  }
  const TrainerOptions& opt_;
  std::string log_name_, log_;
  bool saved_ = false;
};

}  // namespace

std::unique_ptr<TrainModel> train_model(CycleGANModel& model) {
  return std::make_unique<ModelAdapter<CycleGANModel>>(model);
}
std::unique_ptr<TrainModel> train_model(Pix2PixModel& model) {
  return std::make_unique<ModelAdapter<Pix2PixModel>>(model);
}
std::unique_ptr<TrainModel> train_model(CUTModel& model) { return std::make_unique<ModelAdapter<CUTModel>>(model); }
std::unique_ptr<TrainModel> train_model(SinCUTModel& model) {
  return std::make_unique<ModelAdapter<SinCUTModel>>(model);
}

std::string network_file(const std::string& expr_dir, const std::string& suffix, const std::string& name) {
  return join(expr_dir, suffix + "_net_" + name + ".pth");
}

std::string checkpoint_file(const std::string& expr_dir, const std::string& suffix) {
  return join(expr_dir, suffix + "_checkpoint.safetensors");
}

std::vector<std::string> load_for_continue(TrainModel& model, Generator& gen, const std::string& expr_dir,
                                           const std::string& suffix, double lr) {
  std::error_code ec;
  const std::string full = checkpoint_file(expr_dir, suffix);
  if (fs::is_regular_file(full, ec)) {
    nn::Checkpoint ck = model.checkpoint();
    ck.schedulers.clear();  // made anew from epoch_count, as the official --continue_train
    ck.generator = &gen;
    nn::load_checkpoint(full, ck, /*strict=*/false);
    for (const auto& [name, optimizer] : ck.optimizers)  // the official optimizers start at --lr
      for (size_t g = 0; g < optimizer->num_param_groups(); ++g) {
        optimizer->set_lr(g, lr);
        optimizer->set_initial_lr(g, lr);
      }
    return {full};
  }
  std::vector<std::string> files;
  for (const auto& [name, net] : model.named_networks()) {
    const std::string file = network_file(expr_dir, suffix, name);
    SG_CHECK(fs::is_regular_file(file, ec), "--continue_train: neither '", full, "' nor '", file,
             "' exists; check --checkpoints_dir, --name, --epoch and --load_iter");
    files.push_back(file);
  }
  const auto nets = model.named_networks();
  for (size_t k = 0; k < nets.size(); ++k)
    models::cyclegan::load_official_network(*nets[k].second, files[k], "net" + nets[k].first);
  return files;
}

void train(TrainModel& model, data::Dataset& dataset, Generator& gen, const TrainerOptions& opt,
           const TrainCallbacks& callbacks) {
  const auto print = [&](const std::string& line) {
    if (callbacks.print) callbacks.print(line);
  };
  const int64_t dataset_size = dataset.size();
  SG_CHECK(dataset_size > 0, "the training set is empty");
  const int64_t last_epoch = opt.n_epochs + opt.n_epochs_decay;
  Visualizer visualizer(opt);
  std::string last_good = opt.last_good;

  // BaseModel.save_networks(suffix), and the full checkpoint beside it.
  const auto save = [&](const std::string& suffix, int64_t epoch, int64_t total_iters) {
    const std::string bad = first_non_finite(model);
    SG_CHECK(bad.empty(), "parameter ", bad, " became non-finite at epoch ", epoch, ", iteration ", total_iters,
             "; not saved; the last good checkpoint is ", last_good.empty() ? "none (nothing was saved yet)" : last_good);
    for (const auto& [name, net] : model.named_networks())
      save_torch_state_dict(network_file(opt.expr_dir, suffix, name), net->state_dict());
    nn::Checkpoint ck = model.checkpoint();
    ck.generator = &gen;
    ck.epoch = epoch;
    ck.iteration = total_iters;
    last_good = checkpoint_file(opt.expr_dir, suffix);
    nn::save_checkpoint(last_good, ck);
  };

  const int64_t batch_size = opt.batch_size;
  SG_CHECK(batch_size >= 1, "the batch size must be at least 1, got ", batch_size);
  const int64_t batches = dataset_size / batch_size;  // drop_last, as the official DataLoader in training
  SG_CHECK(batches > 0, "--batch_size ", batch_size, " is larger than the ", dataset_size,
           " training images (the official DataLoader drops an incomplete batch)");
  int64_t total_iters = 0;
  bool first_batch = true;
  std::vector<int64_t> order(static_cast<size_t>(dataset_size));
  const auto draw_order = [&] {
    for (int64_t i = 0; i < dataset_size; ++i) order[size_t(i)] = i;
    if (!opt.serial_batches)  // Fisher-Yates, from the checkpointed generator
      for (int64_t i = dataset_size - 1; i > 0; --i)
        std::swap(order[size_t(i)], order[size_t(gen.next_u64() % uint64_t(i + 1))]);
  };
  for (int64_t epoch = opt.epoch_count; epoch <= last_epoch; ++epoch) {
    const auto epoch_start = std::chrono::steady_clock::now();
    auto iter_data_time = std::chrono::steady_clock::now();
    int64_t epoch_iter = 0;
    visualizer.reset();
    if (callbacks.epoch_start) callbacks.epoch_start(epoch);
    draw_order();

    for (int64_t b = 0; b < batches; ++b) {
      data::Sample sample = collate(dataset, order, b * batch_size, batch_size);
      if (first_batch) {
        first_batch = false;
        if (callbacks.first_batch &&
            callbacks.first_batch(sample.A.to(opt.device), sample.B.to(opt.device))) {  // gen restored: draw again
          draw_order();
          sample = collate(dataset, order, 0, batch_size);
        }
      }
      const auto iter_start = std::chrono::steady_clock::now();
      double t_data = 0;
      if (total_iters % opt.print_freq == 0)
        t_data = std::chrono::duration<double>(iter_start - iter_data_time).count();
      total_iters += batch_size;
      epoch_iter += batch_size;
      model.set_input(sample.A.to(opt.device), sample.B.to(opt.device));
      model.optimize_parameters();
      const Losses losses = model.current_losses();
      for (const auto& [name, value] : losses)
        SG_CHECK(std::isfinite(value), "loss ", name, " became ", std::isnan(value) ? "nan" : "inf", " at epoch ",
                 epoch, ", iteration ", epoch_iter, "; the last good checkpoint is ",
                 last_good.empty() ? "none (nothing was saved yet)" : last_good);
      if (callbacks.iteration) callbacks.iteration(epoch, epoch_iter, dataset_size, losses);

      if (total_iters % opt.display_freq == 0)
        visualizer.display_current_results(model.current_visuals(), epoch,
                                           total_iters % opt.update_html_freq == 0);
      if (total_iters % opt.print_freq == 0) {
        const double t_comp = seconds_since(iter_start);
        print(visualizer.print_current_losses(epoch, epoch_iter, losses, t_comp, t_data));
        if (callbacks.printed) callbacks.printed(epoch, total_iters, losses);
      }
      if (total_iters % opt.save_latest_freq == 0) {
        print(format("saving the latest model (epoch %lld, total_iters %lld)", (long long)epoch,
                     (long long)total_iters));
        save(opt.save_by_iter ? "iter_" + std::to_string(total_iters) : "latest", epoch, total_iters);
      }
      iter_data_time = std::chrono::steady_clock::now();
    }

    // The learning rate is updated before the epoch's checkpoint is written,
    // so that the checkpoint holds the state the next epoch starts from.
    const bool save_epoch = epoch % opt.save_epoch_freq == 0;
    if (save_epoch)
      print(format("saving the model at the end of epoch %lld, iters %lld", (long long)epoch, (long long)total_iters));
    print(format("End of epoch %lld / %lld \t Time Taken: %d sec", (long long)epoch, (long long)last_epoch,
                 int(seconds_since(epoch_start))));
    const auto [old_lr, lr] = model.update_learning_rate();
    print(format("learning rate %.7f -> %.7f", old_lr, lr));
    if (save_epoch) {
      save("latest", epoch, total_iters);
      save(std::to_string(epoch), epoch, total_iters);
    }
    if (callbacks.epoch_end) callbacks.epoch_end(epoch);
  }
}

Tensor tensor_to_image_levels(const Tensor& batch) {
  const Tensor x = contiguous(batch);
  const int64_t C = x.size(1), H = x.size(2), W = x.size(3), plane = H * W;
  SG_CHECK(C == 1 || C == 3, "an image of ", C, " channels cannot be saved");
  const std::vector<double> v = x.to_vector();  // exact: the values are float32
  Tensor out = empty({3, H, W}, TensorOptions(DType::f32));
  float* d = out.data<float>();
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t i = 0; i < plane; ++i) {
      const float value = (float(v[size_t((C == 1 ? 0 : c) * plane + i)]) + 1.0f) / 2.0f * 255.0f;
      const int level = value <= 0.0f ? 0 : value >= 255.0f ? 255 : int(value);
      d[c * plane + i] = float(level) / 255.0f;
    }
  return out;
}

}  // namespace sg::translation
