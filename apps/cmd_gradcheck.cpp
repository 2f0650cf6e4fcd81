// stylegrad gradcheck [OP...]: runs the registered fp64 gradient checks.
#include <cstdio>
#include <set>

#include "apps/cli.h"
#include "apps/commands.h"
#include "gradcheck/gradcheck.h"
#include "tensor/error.h"
#include "tensor/random.h"

namespace sg::cli {

int cmd_gradcheck(int argc, char** argv) {
  ArgParser p("stylegrad gradcheck [OP...] [options]",
              "Checks every op's backward against central finite differences in float64, and its\n"
              "double backward (gradgradcheck) where the op supports create_graph. With no OP, checks all.");
  p.flag("list", "list the ops that have checks and exit");
  p.option("eps", "1e-6", "finite-difference step");
  p.option("atol", "1e-5", "absolute tolerance");
  p.option("rtol", "1e-3", "relative tolerance");
  if (!p.parse(argc, argv)) return 0;

  const auto& all = all_gradcheck_cases();
  std::set<std::string> known;
  for (const auto& c : all) known.insert(c.op);
  if (p.has("list")) {
    for (const auto& op : known) std::printf("%s\n", op.c_str());
    return 0;
  }
  std::set<std::string> wanted(p.positionals().begin(), p.positionals().end());
  for (const auto& op : wanted) {
    if (known.count(op)) continue;
    std::string names;
    for (const auto& k : known) names += (names.empty() ? "" : ", ") + k;
    throw UsageError("no gradient check for op '" + op + "'; ops with checks: " + names);
  }

  GradcheckOptions o;
  o.eps = p.get_double("eps", Num::positive);
  o.atol = p.get_double("atol", Num::non_negative);
  o.rtol = p.get_double("rtol", Num::non_negative);
  std::printf("%-18s %-30s %-6s %12s %12s  %s\n", "op", "case", "order", "max_abs_err", "max_rel_err", "result");
  int passed = 0, failed = 0;
  for (const auto& c : all) {
    if (!wanted.empty() && !wanted.count(c.op)) continue;
    for (int order = 1; order <= (c.second_order ? 2 : 1); ++order) {
      Generator gen(42);
      TensorList inputs = c.make_inputs(gen);
      GradcheckResult r = order == 1 ? gradcheck(c.fn, inputs, o) : gradgradcheck(c.fn, inputs, o);
      std::printf("%-18s %-30s %-6d %12.3e %12.3e  %s\n", c.op.c_str(), c.variant.c_str(), order, r.max_abs_err,
                  r.max_rel_err, r.passed ? "pass" : ("FAIL (" + r.worst + ")").c_str());
      (r.passed ? passed : failed)++;
    }
  }
  std::printf("gradcheck: %d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}

}  // namespace sg::cli
