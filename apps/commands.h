// The subcommands of `stylegrad`. Each is a function taking the arguments
// after its name and returning the process exit code; errors are thrown as
// sg::Error and printed as one line by main.
#pragma once

namespace sg::cli {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv);
};

int cmd_gradcheck(int argc, char** argv);
int cmd_color_transfer(int argc, char** argv);
int cmd_bench(int argc, char** argv);
int cmd_conformance(int argc, char** argv);
int cmd_convert(int argc, char** argv);
int cmd_weights_info(int argc, char** argv);
int cmd_inspect(int argc, char** argv);
int cmd_style(int argc, char** argv);
int cmd_test(int argc, char** argv);
int cmd_train(int argc, char** argv);

}  // namespace sg::cli
