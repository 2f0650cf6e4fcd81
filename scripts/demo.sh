#!/usr/bin/env bash
# `make demo`: neural style transfer of a bundled photo in the style of a bundled
# painting, the two classic colour-transfer baselines with the same painting, a
# CycleGAN section, and an HTML page (demo-out/index.html) showing them side by
# side with the time of each part. Uses pretrained VGG-19 when weights/downloads/
# has it (weights/fetch.sh vgg19), otherwise the random multi-scale network (no
# download), and says which. CycleGAN: with an official generator in
# weights/downloads/ (horse2zebra.pth, or cyclegan_<name>.pth as
# weights/fetch.sh cyclegan-<name> saves it) it translates the bundled photos;
# without one it trains a tiny CycleGAN (photos <-> paintings, 64 px crops) for
# about a minute and shows its real, fake and reconstructed images as what they
# are. Then a SinCUT section: a narrow SinCUT (ngf = ndf = 4) trained for 40
# iterations on Chelsea (A) and The Starry Night (B), under a minute, and its
# translation of the whole photo, labelled as the short run it is. Meant to
# finish in about 2 minutes on 2 idle cores.
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

# ---- CycleGAN ----
cg="$out/cyclegan"
rm -rf "$cg"
mkdir -p "$cg"
here="$(pwd)"
photos=(chelsea.png ihc.jpg)
pretrained=""
for f in weights/downloads/horse2zebra.pth weights/downloads/cyclegan_horse2zebra.pth weights/downloads/cyclegan_*.pth; do
  if [ -f "$f" ]; then pretrained="$f"; break; fi
done
t0=$(now)
if [ -n "$pretrained" ]; then
  # The official generators: resnet_9blocks, instance norm, no dropout (test.py --model test --no_dropout).
  gname="$(basename "$pretrained" .pth)"
  gname="${gname#cyclegan_}"
  echo "demo: CycleGAN: translating the bundled photos with $pretrained"
  mkdir -p "$cg/photos" "$cg/checkpoints/${gname}_pretrained"
  for p in "${photos[@]}"; do ln -s "$here/demo/images/$p" "$cg/photos/$p"; done
  ln -s "$here/$pretrained" "$cg/checkpoints/${gname}_pretrained/latest_net_G.pth"
  "$bin" test --dataroot "$cg/photos" --name "${gname}_pretrained" --model test --no_dropout --preprocess none \
    --checkpoints_dir "$cg/checkpoints" --results_dir "$cg/results" --gpu_ids -1 >"$cg/test.log"
  t_cg=$(secs "$t0" "$(now)")
  res="cyclegan/results/${gname}_pretrained/test_latest/images"
  cg_html="<p>The official pretrained <b>${gname}</b> generator (<code>$pretrained</code>, resnet_9blocks)
run by <code>stylegrad test --model test --no_dropout --preprocess none</code> on the bundled photos: ${t_cg} s.</p>"
  for p in "${photos[@]}"; do
    stem="${p%.*}"
    cg_html+="<figure><img src=\"$res/${stem}_real.png\"><figcaption>real: the photo $p</figcaption></figure>
<figure><img src=\"$res/${stem}_fake.png\"><figcaption>fake: ${gname}'s translation of it</figcaption></figure><br>"
  done
else
  # A tiny CycleGAN trained here: A = the two photos, B = the three paintings,
  # random 64 px crops of 72 px images, ngf = ndf = 8, resnet_6blocks. One
  # thread unless OMP_NUM_THREADS says otherwise: these tensors are too small
  # for two to help, and a busy second core would stall every parallel op.
  epochs=90; decay=30; iters=$(( (epochs + decay) * 3 ))
  echo "demo: CycleGAN: no official generator in weights/downloads/ (weights/fetch.sh cyclegan-horse2zebra gets one);"
  echo "demo: training a tiny CycleGAN instead (photos <-> paintings, 64 px, $iters iterations, about a minute)"
  mkdir -p "$cg/data/trainA" "$cg/data/trainB" "$cg/data/testA" "$cg/data/testB"
  for p in "${photos[@]}"; do ln -s "$here/demo/images/$p" "$cg/data/trainA/$p"; ln -s "$here/demo/images/$p" "$cg/data/testA/$p"; done
  for p in starry_night.jpg the_scream.jpg shipwreck.jpg; do ln -s "$here/demo/images/$p" "$cg/data/trainB/$p"; done
  for p in starry_night.jpg the_scream.jpg; do ln -s "$here/demo/images/$p" "$cg/data/testB/$p"; done
  tiny=(--model cycle_gan --netG resnet_6blocks --ngf 8 --gpu_ids -1 --checkpoints_dir "$cg/checkpoints" --name tiny)
  OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" "$bin" train --dataroot "$cg/data" "${tiny[@]}" --ndf 8 --load_size 72 \
    --crop_size 64 --n_epochs "$epochs" --n_epochs_decay "$decay" --lr 0.001 --print_freq 30 --display_id 0 \
    --display_freq 30 --save_epoch_freq "$(( epochs + decay ))" --save_latest_freq 100000 --seed 1 >"$cg/train.log"
  t_train=$(secs "$t0" "$(now)")
  echo "demo: CycleGAN training took $t_train s"
  t1=$(now)
  OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" "$bin" test --dataroot "$cg/data" "${tiny[@]}" --load_size 64 \
    --crop_size 64 --results_dir "$cg/results" >"$cg/test.log"
  t_test=$(secs "$t1" "$(now)")
  t_cg=$(secs "$t0" "$(now)")
  res="cyclegan/results/tiny/test_latest/images"
  cg_html="<p>No official CycleGAN generator in <code>weights/downloads/</code> (<code>weights/fetch.sh cyclegan-horse2zebra</code>
gets one, which the demo then uses), so this is <b>a tiny CycleGAN trained here from scratch for ${t_train} s</b>
($iters iterations of <code>stylegrad train --model cycle_gan</code>: A = the 2 bundled photos, B = the 3 paintings,
random 64&times;64 crops, ngf = ndf = 8, 6 residual blocks), then run by <code>stylegrad test --model cycle_gan</code>
(${t_test} s). A model this small, trained on five images for a minute, learns colours and textures, not
paintings: judge the machinery, not the art. Training log: <a href=\"cyclegan/checkpoints/tiny/loss_log.txt\">loss_log.txt</a>,
<a href=\"cyclegan/checkpoints/tiny/loss_plot.svg\">loss plot</a>, <a href=\"cyclegan/checkpoints/tiny/web/index.html\">training visuals</a>.</p>"
  for stem in chelsea ihc; do
    cg_html+="<figure class=small><img src=\"$res/${stem}_real_A.png\"><figcaption>real_A: a photo (input)</figcaption></figure>
<figure class=small><img src=\"$res/${stem}_fake_B.png\"><figcaption>fake_B = G_A(real_A): made \"painting-like\"</figcaption></figure>
<figure class=small><img src=\"$res/${stem}_rec_A.png\"><figcaption>rec_A = G_B(fake_B): back to a photo</figcaption></figure>
<figure class=small><img src=\"$res/${stem}_real_B.png\"><figcaption>real_B: a painting (input)</figcaption></figure>
<figure class=small><img src=\"$res/${stem}_fake_A.png\"><figcaption>fake_A = G_B(real_B): made \"photo-like\"</figcaption></figure>
<figure class=small><img src=\"$res/${stem}_rec_B.png\"><figcaption>rec_B = G_A(fake_A): back to a painting</figcaption></figure><br>"
  done
fi
echo "demo: CycleGAN section took $t_cg s"

# ---- SinCUT ----
# The README's CPU recipe (A = Chelsea, B = The Starry Night, 64 px
# zoom-and-patch crops, batch 4) cut down to under a minute: narrow
# networks (ngf = ndf = 4 instead of 10 and 8) and 40 iterations (4 epochs of
# 40 crops, the last one decaying) instead of 600. One thread, as above.
sc="$out/sincut"
rm -rf "$sc"
mkdir -p "$sc/data/trainA" "$sc/data/trainB"
ln -s "$here/$content" "$sc/data/trainA/chelsea.png"
ln -s "$here/$style" "$sc/data/trainB/starry_night.jpg"
sc_epochs=3; sc_decay=1; sc_crops=40; sc_batch=4
sc_iters=$(( (sc_epochs + sc_decay) * sc_crops / sc_batch ))
echo "demo: SinCUT: training a narrow SinCUT on Chelsea -> The Starry Night (64 px crops, batch $sc_batch, $sc_iters iterations, under a minute)"
sinc=(--model sincut --ngf 4 --checkpoints_dir "$sc/checkpoints" --name starry_cat)
t0=$(now)
OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" "$bin" train --dataroot "$sc/data" "${sinc[@]}" --ndf 4 --batch_size "$sc_batch" \
  --max_dataset_size "$sc_crops" --n_epochs "$sc_epochs" --n_epochs_decay "$sc_decay" --print_freq 40 --display_freq 40 \
  --save_epoch_freq "$(( sc_epochs + sc_decay ))" --save_latest_freq 100000 --seed 1 >"$sc/train.log"
t_sc_train=$(secs "$t0" "$(now)")
echo "demo: SinCUT training took $t_sc_train s"
t1=$(now)
OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" "$bin" test --dataroot "$sc/data" "${sinc[@]}" --results_dir "$sc/results" >"$sc/test.log"
t_sc_test=$(secs "$t1" "$(now)")
t_sc=$(secs "$t0" "$(now)")
echo "demo: SinCUT section took $t_sc s"
res="sincut/results/starry_cat/test_latest/images"
sc_html="<p><b>A short SinCUT run, trained here from scratch for ${t_sc_train} s</b>: <code>stylegrad train --model sincut</code>
on one photo (A: Chelsea) and one painting (B: The Starry Night), with the official recipe's 64&times;64
zoom-and-patch crops and batch $sc_batch of the README's CPU recipe, but narrow networks (ngf = ndf = 4 instead
of 10 and 8) and $sc_iters iterations instead of 600 (the official schedule has 100&nbsp;000). Then
<code>stylegrad test --model sincut</code> translates the whole photo (${t_sc_test} s). After so short a run the
translation is weak: mostly a recolouring towards the painting's palette, little of its brushwork; the
README's 21-minute recipe (docs/sincut_starry_cat.jpg) goes further. Training log:
<a href=\"sincut/checkpoints/starry_cat/loss_log.txt\">loss_log.txt</a>,
<a href=\"sincut/checkpoints/starry_cat/loss_plot.svg\">loss plot</a>,
<a href=\"sincut/checkpoints/starry_cat/web/index.html\">training visuals</a>.</p>
<figure><img src=\"$res/real_A/chelsea.png\"><figcaption>real_A: the photo (input)</figcaption></figure>
<figure><img src=\"$res/fake_B/chelsea.png\"><figcaption>fake_B = G(real_A): after $sc_iters iterations</figcaption></figure>
<figure><img src=\"$res/real_B/chelsea.png\"><figcaption>real_B: the painting it learns from</figcaption></figure>"
t_all=$(secs "$start" "$(now)")

cat > "$out/index.html" <<HTML
<!doctype html>
<meta charset="utf-8">
<title>stylegrad demo</title>
<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}figure{display:inline-block;margin:8px;vertical-align:top}
img{max-width:340px;display:block}figcaption{font-size:14px;color:#333;max-width:340px}
figure.small img{width:160px;image-rendering:pixelated}figure.small figcaption{max-width:160px;font-size:12px}</style>
<h1>stylegrad demo: neural style transfer, CycleGAN and SinCUT</h1>
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
<h2>CycleGAN</h2>
$cg_html
<h2>SinCUT (contrastive translation from one image to another)</h2>
$sc_html
<p>Images: demo/images/SOURCES.md.</p>
HTML
echo "demo: wrote $out/index.html (open it in a browser) in ${t_all} s"
