// stylegrad train / test for CUT, FastCUT and SinCUT: taesungp/contrastive-
// unpaired-translation's train.py and test.py (apps/cut_commands.cpp). cmd_train
// and cmd_test hand their arguments over when is_cut_command says so.
#pragma once

namespace sg::cli {

// --model cut or sincut, or no --model and --CUT_mode given (the official README's
// command lines leave --model at the CUT repository's default, cut).
bool is_cut_command(int argc, char** argv);

int cmd_train_cut(int argc, char** argv);
int cmd_test_cut(int argc, char** argv);

}  // namespace sg::cli
