#!/usr/bin/env bash
# `make demo`: a short neural style transfer on the bundled images, the two
# colour-transfer baselines, and an HTML page showing them side by side.
# Uses pretrained VGG-19 when weights/downloads/ has it (weights/fetch.sh vgg19),
# otherwise the random multi-scale network, and says which.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=./build/stylegrad
out=demo-out
content=demo/images/chelsea.png
style=demo/images/ihc.jpg
mkdir -p "$out"

if [ -f weights/downloads/vgg19-dcbbb69f.pth ]; then
  model="vgg19"; extra=(--weights weights/downloads/vgg19-dcbbb69f.pth --init image --num-iterations 200 --image-size 256)
  echo "demo: using pretrained VGG-19 (weights/downloads/vgg19-dcbbb69f.pth)"
else
  model="multiscale"; extra=(--num-iterations 100 --image-size 192)
  echo "demo: no pretrained VGG-19 in weights/downloads/ (weights/fetch.sh vgg19 gets it);"
  echo "demo: using the random multi-scale network instead (no download needed)"
fi

start=$(date +%s)
"$bin" style --content "$content" --style "$style" --output "$out/result.png" --model "$model" "${extra[@]}" \
  --loss-log "$out/losses.csv" --save-iter 0 --print-iter 10
"$bin" color-transfer --method histogram --content "$content" --style "$style" --output "$out/histogram.png"
"$bin" color-transfer --method reinhard --content "$content" --style "$style" --output "$out/reinhard.png"
cp "$content" "$out/content.png"
cp "$style" "$out/style.jpg"
elapsed=$(( $(date +%s) - start ))

cat > "$out/index.html" <<HTML
<!doctype html>
<meta charset="utf-8">
<title>stylegrad demo</title>
<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}figure{display:inline-block;margin:8px;vertical-align:top}
img{max-width:320px;display:block}figcaption{font-size:14px;color:#333}</style>
<h1>stylegrad demo: neural style transfer</h1>
<p>Features: <b>$model</b>$( [ "$model" = multiscale ] && echo " (random multi-scale network: no pretrained weights were found; <code>weights/fetch.sh vgg19</code> gets VGG-19)" ).
Whole demo: ${elapsed} s on $(nproc) cores.</p>
<figure><img src="content.png"><figcaption>content (Chelsea, CC0)</figcaption></figure>
<figure><img src="style.jpg"><figcaption>style (immunohistochemistry sample)</figcaption></figure>
<figure><img src="result.png"><figcaption>Gatys style transfer ($model)</figcaption></figure>
<h2>Classic colour-transfer baselines</h2>
<figure><img src="histogram.png"><figcaption>per-channel histogram matching</figcaption></figure>
<figure><img src="reinhard.png"><figcaption>Reinhard et al. 2001 (lαβ statistics)</figcaption></figure>
<h2>Losses</h2>
<figure><img src="result_losses.svg" style="max-width:640px"><figcaption>content, style, TV and total loss per iteration (<a href="losses.csv">CSV</a>)</figcaption></figure>
HTML
echo "demo: wrote $out/index.html (open it in a browser) in ${elapsed} s"
