// stylegrad: one binary, one subcommand per job.
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <string>

#include "apps/cli.h"
#include "apps/commands.h"
#include "tensor/error.h"

using namespace sg::cli;

static const Command kCommands[] = {
    {"style", "Gatys neural style transfer (jcjohnson/neural-style's options)", cmd_style},
    {"train", "CycleGAN/pix2pix/CUT train.py: train cycle_gan, pix2pix, cut or sincut (the official options and files)", cmd_train},
    {"test", "CycleGAN/pix2pix/CUT test.py: translate images with trained generators (the official options)", cmd_test},
    {"color-transfer", "classic colour transfer baselines: histogram matching, Reinhard et al. 2001", cmd_color_transfer},
    {"inspect", "write a VGG's activations (.npy), Gram matrices and channel mosaics for an image", cmd_inspect},
    {"convert", "convert a PyTorch checkpoint (.pth) or safetensors file to safetensors", cmd_convert},
    {"weights-info", "list the tensors in a weight file (name, dtype, shape)", cmd_weights_info},
    {"gradcheck", "fp64 gradient checks (first and second order) of the engine's ops", cmd_gradcheck},
    {"conformance", "runs ONNX's backend node tests (libonnx-testdata) with stylegrad's ops", cmd_conformance},
    {"bench", "time a workload (VGG-19, conv layers, bandwidth, dispatch overhead)", cmd_bench},
};

static void usage() {
  std::printf("usage: stylegrad COMMAND [options]    (stylegrad COMMAND --help for its options)\n\ncommands:\n");
  for (const Command& c : kCommands) std::printf("  %-14s %s\n", c.name, c.summary);
  std::printf("\nexit status: 0 success, 1 a failure while running (a file that cannot be read or written,\n"
              "a loss that became NaN, a failed check), 2 a usage error (an unknown option, an invalid value,\n"
              "two outputs or an output and an input that are the same file)\n");
}

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    usage();
    return argc < 2 ? 2 : 0;
  }
  for (const Command& c : kCommands) {
    if (std::strcmp(argv[1], c.name) != 0) continue;
    // stdout is buffered when it is a file or a pipe: flushed before an error,
    // so that the error line comes after what the command printed, not before.
    try {
      return c.run(argc - 2, argv + 2);
    } catch (const UsageError& e) {
      std::fflush(stdout);
      std::fprintf(stderr, "stylegrad %s: error: %s\n", c.name, e.what());
      return 2;
    } catch (const std::bad_alloc&) {
      std::fflush(stdout);
      std::fprintf(stderr, "stylegrad %s: error: out of memory: the job needs more than this machine can give (use smaller images or sizes)\n", c.name);
      return 1;
    } catch (const std::exception& e) {
      std::fflush(stdout);
      std::fprintf(stderr, "stylegrad %s: error: %s\n", c.name, e.what());
      return 1;
    }
  }
  std::fprintf(stderr, "stylegrad: unknown command '%s' (see stylegrad --help)\n", argv[1]);
  return 2;
}
