#include "translation/cycle_gan.h"

#include "models/cyclegan_networks.h"
#include "nn/module.h"
#include "nn/optim.h"
#include "ops/ops.h"
#include "tensor/error.h"
#include "translation/base_model.h"

namespace sg::translation {

namespace cg = sg::models::cyclegan;

namespace {
std::vector<Tensor> chained_parameters(const nn::Module& a, const nn::Module& b) {  // itertools.chain
  std::vector<Tensor> params = a.parameters();
  for (const Tensor& p : b.parameters()) params.push_back(p);
  return params;
}
}  // namespace

CycleGANModel::CycleGANModel(const CycleGANOptions& o, Generator& gen)
    : BaseModel("CycleGANModel", o.isTrain),
      opt(o),
      fake_A_pool(o.pool_size, gen),
      fake_B_pool(o.pool_size, gen),
      criterionGAN(gan_mode_from_name(o.gan_mode)) {
  SG_CHECK(o.direction == "AtoB" || o.direction == "BtoA", "CycleGAN: direction '", o.direction,
           "' is not AtoB or BtoA");
  const bool dropout = !o.no_dropout;
  netG_A = cg::define_G(o.input_nc, o.output_nc, o.ngf, o.netG, o.norm, dropout, o.init_type, o.init_gain, gen);
  netG_B = cg::define_G(o.output_nc, o.input_nc, o.ngf, o.netG, o.norm, dropout, o.init_type, o.init_gain, gen);
  if (!o.isTrain) return;
  netD_A = cg::define_D(o.output_nc, o.ndf, o.netD, o.n_layers_D, o.norm, o.init_type, o.init_gain, gen);
  netD_B = cg::define_D(o.input_nc, o.ndf, o.netD, o.n_layers_D, o.norm, o.init_type, o.init_gain, gen);
  if (o.lambda_identity > 0.0)  // G_A(real_B) must be defined: B has A's channels
    SG_CHECK(o.input_nc == o.output_nc, "CycleGAN: lambda_identity > 0 needs input_nc == output_nc, got ",
             o.input_nc, " and ", o.output_nc);
  make_optimizers();
}

void CycleGANModel::make_optimizers() {
  nn::Adam::Options adam;
  adam.lr = opt.lr;
  adam.beta1 = opt.beta1;
  adam.beta2 = 0.999;
  optimizer_G = std::make_unique<nn::Adam>(chained_parameters(*netG_A, *netG_B), adam);
  optimizer_D = std::make_unique<nn::Adam>(chained_parameters(*netD_A, *netD_B), adam);
}

CycleGANModel::~CycleGANModel() = default;

void CycleGANModel::set_input(const Tensor& A, const Tensor& B) {
  const bool AtoB = opt.direction == "AtoB";
  real_A = AtoB ? A : B;
  real_B = AtoB ? B : A;
}

void CycleGANModel::forward() {
  SG_CHECK(real_A.defined() && real_B.defined(), "CycleGAN.forward: call set_input first");
  fake_B = (*netG_A)(real_A);  // G_A(A)
  rec_A = (*netG_B)(fake_B);   // G_B(G_A(A))
  fake_A = (*netG_B)(real_B);  // G_B(B)
  rec_B = (*netG_A)(fake_A);   // G_A(G_B(B))
}

Tensor CycleGANModel::backward_D_basic(nn::Module& netD, const Tensor& real, const Tensor& fake) {
  const Tensor loss_D_real = criterionGAN(netD(real), true);
  const Tensor loss_D_fake = criterionGAN(netD(fake.detach()), false);  // no gradient into G
  Tensor loss_D = (loss_D_real + loss_D_fake) * 0.5;  // halved: D learns slower than G
  loss_D.backward();
  return loss_D;
}

void CycleGANModel::backward_D_A() {
  const Tensor fake = fake_B_pool.query(fake_B);
  loss_D_A = backward_D_basic(*netD_A, real_B, fake);
}

void CycleGANModel::backward_D_B() {
  const Tensor fake = fake_A_pool.query(fake_A);
  loss_D_B = backward_D_basic(*netD_B, real_A, fake);
}

void CycleGANModel::backward_G() {
  const double lambda_idt = opt.lambda_identity, lambda_A = opt.lambda_A, lambda_B = opt.lambda_B;
  TensorOptions scalar(real_A.dtype());
  scalar.device = real_A.device();
  if (lambda_idt > 0) {
    // Identity: G_A should leave B images alone, G_B A images.
    //   idt_A = lambda_B lambda_idt E||G_A(b) - b||_1,  idt_B = lambda_A lambda_idt E||G_B(a) - a||_1
    idt_A = (*netG_A)(real_B);
    loss_idt_A = l1_loss(idt_A, real_B) * (lambda_B * lambda_idt);
    idt_B = (*netG_B)(real_A);
    loss_idt_B = l1_loss(idt_B, real_A) * (lambda_A * lambda_idt);
  } else {
    loss_idt_A = scalar_tensor(0.0, scalar);
    loss_idt_B = scalar_tensor(0.0, scalar);
  }
  // GAN losses: G_A wants D_A(G_A(a)) judged real, G_B wants D_B(G_B(b)) judged real.
  loss_G_A = criterionGAN((*netD_A)(fake_B), true);
  loss_G_B = criterionGAN((*netD_B)(fake_A), true);
  // Cycle consistency (l1_loss is the mean over elements):
  //   cycle_A = lambda_A E||G_B(G_A(a)) - a||_1,  cycle_B = lambda_B E||G_A(G_B(b)) - b||_1
  loss_cycle_A = l1_loss(rec_A, real_A) * lambda_A;
  loss_cycle_B = l1_loss(rec_B, real_B) * lambda_B;
  loss_G = loss_G_A + loss_G_B + loss_cycle_A + loss_cycle_B + loss_idt_A + loss_idt_B;
  loss_G.backward();
}

void CycleGANModel::optimize_parameters() {
  SG_CHECK(opt.isTrain, "CycleGAN.optimize_parameters: the model was built with isTrain false");
  forward();
  // G_A and G_B: D_A and D_B need no gradients while G's loss flows through them.
  set_requires_grad({netD_A.get(), netD_B.get()}, false);
  optimizer_G->zero_grad();
  backward_G();
  optimizer_G->step();
  // D_A and D_B, on the pooled, detached fakes.
  set_requires_grad({netD_A.get(), netD_B.get()}, true);
  optimizer_D->zero_grad();
  backward_D_A();
  backward_D_B();
  optimizer_D->step();
}

std::vector<std::pair<std::string, double>> CycleGANModel::current_losses() const {
  auto value = [](const Tensor& t) { return t.defined() ? t.item() : 0.0; };
  return {{"D_A", value(loss_D_A)},         {"G_A", value(loss_G_A)}, {"cycle_A", value(loss_cycle_A)},
          {"idt_A", value(loss_idt_A)},     {"D_B", value(loss_D_B)}, {"G_B", value(loss_G_B)},
          {"cycle_B", value(loss_cycle_B)}, {"idt_B", value(loss_idt_B)}};
}

NamedTensors CycleGANModel::current_visuals() const {
  const bool idt = opt.isTrain && opt.lambda_identity > 0;
  NamedTensors v = {{"real_A", real_A}, {"fake_B", fake_B}, {"rec_A", rec_A}};
  if (idt) v.push_back({"idt_B", idt_B});
  v.insert(v.end(), {{"real_B", real_B}, {"fake_A", fake_A}, {"rec_B", rec_B}});
  if (idt) v.push_back({"idt_A", idt_A});
  return v;
}

nn::Checkpoint CycleGANModel::checkpoint() const {
  nn::Checkpoint c = BaseModel::checkpoint();
  if (!opt.isTrain) return c;
  for (ImagePool* pool : {const_cast<ImagePool*>(&fake_A_pool), const_cast<ImagePool*>(&fake_B_pool)})
    c.tensor_sets.emplace_back(pool == &fake_A_pool ? "fake_A_pool" : "fake_B_pool",
                               nn::TensorSet{[pool] { return pool->state(); },
                                             [pool](const NamedTensors& s) { pool->load_state(s); }});
  return c;
}

std::vector<std::pair<std::string, nn::Module*>> CycleGANModel::named_networks() const {
  std::vector<std::pair<std::string, nn::Module*>> nets = {{"G_A", netG_A.get()}, {"G_B", netG_B.get()}};
  if (opt.isTrain) nets.insert(nets.end(), {{"D_A", netD_A.get()}, {"D_B", netD_B.get()}});
  return nets;
}

}  // namespace sg::translation
