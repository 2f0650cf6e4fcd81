// stylegrad color-transfer: the classic baselines (histogram matching,
// Reinhard et al. 2001) that move a style image's colours onto a content image.
#include <cstdio>

#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/output_plan.h"
#include "style/color.h"
#include "tensor/error.h"
#include "io/image.h"

namespace sg::cli {

int cmd_color_transfer(int argc, char** argv) {
  ArgParser p("stylegrad color-transfer --method histogram|reinhard --content C --style S --output O",
              "Recolours the content image with the style image's colours:\n"
              "  histogram  per-channel histogram matching (each value goes to the same quantile)\n"
              "  reinhard   Reinhard et al. 2001: match mean and standard deviation in lαβ space");
  p.option("method", "reinhard", "histogram or reinhard");
  p.option("content", "", "content image");
  p.option("style", "", "style image (its colours are used)");
  p.option("output", "", "output image (.png or .jpg)");
  if (!p.parse(argc, argv)) return 0;
  SG_USAGE_CHECK(p.positionals().empty(), "unexpected argument '", p.positionals()[0], "'");
  for (const char* o : {"content", "style", "output"}) SG_USAGE_CHECK(!p.get(o).empty(), "--", o, " is required");
  const std::string method = p.get("method");
  SG_USAGE_CHECK(method == "histogram" || method == "reinhard", "--method must be histogram or reinhard, got '", method,
                 "'");
  OutputPlan plan;
  plan.input(p.get("content"), "--content");
  plan.input(p.get("style"), "--style");
  plan.output(p.get("output"), "--output", OutputPlan::Kind::image);
  plan.check();
  const Tensor content = load_image(p.get("content")), style_img = load_image(p.get("style"));
  const Tensor out = method == "histogram" ? style::match_histograms(content, style_img)
                                           : style::reinhard_transfer(content, style_img);
  save_image(out, p.get("output"));
  std::fprintf(stderr, "wrote %s\n", p.get("output").c_str());
  return 0;
}

}  // namespace sg::cli
