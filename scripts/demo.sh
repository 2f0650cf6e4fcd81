#!/usr/bin/env bash
# `make demo`: neural style transfer of a bundled photo in the style of a bundled
# painting, the two classic colour-transfer baselines with the same painting, and
# an HTML page (demo-out/index.html) showing them side by side with the time of
# each part. Uses pretrained VGG-19 when weights/downloads/ has it
# (weights/fetch.sh vgg19), otherwise the random multi-scale network (no
# download), and says which. Meant to finish within 2 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=./build/stylegrad
out=demo-out
content=demo/images/chelsea.png
style=demo/images/starry_night.jpg
mkdir -p "$out"

if [ -f weights/downloads/vgg19-dcbbb69f.pth ]; then
  model="vgg19"
  extra=(--weights weights/downloads/vgg19-dcbbb69f.pth --init image --num-iterations 200 --image-size 256)
  about="pretrained VGG-19 (weights/downloads/vgg19-dcbbb69f.pth), 256 px, 200 L-BFGS iterations from the content image"
  echo "demo: using pretrained VGG-19 (weights/downloads/vgg19-dcbbb69f.pth)"
else
  model="multiscale"
  extra=(--num-iterations 60 --image-size 256)
  about="random multi-scale network (Ustyuzhaninov et al. 2017: no pretrained weights), 256 px, 60 L-BFGS iterations from the content image"
  echo "demo: no pretrained VGG-19 in weights/downloads/ (weights/fetch.sh vgg19 gets it);"
  echo "demo: using the random multi-scale network instead (no download needed)"
fi

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

start=$(now)
"$bin" style --content "$content" --style "$style" --output "$out/result.png" --model "$model" "${extra[@]}" \
  --loss-log "$out/losses.csv" --save-iter 0 --print-iter 10
t_style=$(secs "$start" "$(now)")
echo "demo: style transfer took $t_style s"

t0=$(now)
"$bin" color-transfer --method histogram --content "$content" --style "$style" --output "$out/histogram.png"
t_hist=$(secs "$t0" "$(now)")
t0=$(now)
"$bin" color-transfer --method reinhard --content "$content" --style "$style" --output "$out/reinhard.png"
t_reinhard=$(secs "$t0" "$(now)")
echo "demo: colour-transfer baselines took $t_hist s (histogram) and $t_reinhard s (Reinhard)"

cp "$content" "$out/content.png"
cp "$style" "$out/style.jpg"
t_all=$(secs "$start" "$(now)")

cat > "$out/index.html" <<HTML
<!doctype html>
<meta charset="utf-8">
<title>stylegrad demo</title>
<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}figure{display:inline-block;margin:8px;vertical-align:top}
img{max-width:340px;display:block}figcaption{font-size:14px;color:#333;max-width:340px}</style>
<h1>stylegrad demo: neural style transfer</h1>
<p>Gatys et al.'s style transfer with the features of a $about.
$( [ "$model" = multiscale ] && echo "<code>weights/fetch.sh vgg19</code> gets VGG-19, which the demo then uses." )
Whole demo: <b>${t_all} s</b> on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')).</p>
<figure><img src="content.png"><figcaption>content: Chelsea the cat (Stefan van der Walt, CC0)</figcaption></figure>
<figure><img src="style.jpg"><figcaption>style: Vincent van Gogh, The Starry Night (1889, public domain)</figcaption></figure>
<figure><img src="result.png"><figcaption><b>Gatys style transfer</b> ($model): ${t_style} s</figcaption></figure>
<h2>Classic colour-transfer baselines (same photo and painting)</h2>
<p>They move the colours only, not the brush strokes.</p>
<figure><img src="histogram.png"><figcaption>per-channel histogram matching: ${t_hist} s</figcaption></figure>
<figure><img src="reinhard.png"><figcaption>Reinhard et al. 2001 (mean and deviation in lαβ): ${t_reinhard} s</figcaption></figure>
<h2>Losses</h2>
<figure><img src="result_losses.svg" style="max-width:640px"><figcaption>content, style, TV and total loss per iteration (<a href="losses.csv">CSV</a>)</figcaption></figure>
<p>Images: demo/images/SOURCES.md.</p>
HTML
echo "demo: wrote $out/index.html (open it in a browser) in ${t_all} s"
