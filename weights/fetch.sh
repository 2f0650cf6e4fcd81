#!/usr/bin/env bash
# Downloads official pretrained weights into weights/downloads/ (git-ignored).
#
#   weights/fetch.sh vgg19                 torchvision VGG-19 (vgg19-dcbbb69f.pth, 548 MB)
#   weights/fetch.sh vgg16                 torchvision VGG-16 (vgg16-397923af.pth, 528 MB)
#   weights/fetch.sh cyclegan-NAME         a CycleGAN generator, e.g. cyclegan-horse2zebra, cyclegan-style_monet
#   weights/fetch.sh pix2pix-NAME          a pix2pix generator, e.g. pix2pix-facades_label2photo
#   weights/fetch.sh cut                   the CUT / FastCUT release (pretrained_models.tar)
#   weights/fetch.sh --list                what can be fetched
#
# torchvision names its files after the first 8 hex digits of their SHA-256;
# those are checked. The CycleGAN, pix2pix and CUT releases publish no checksums: their
# SHA-256 is recorded in NAME.sha256 on the first download and checked after that.
# stylegrad reads the .pth files as they are (no conversion needed).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dest="${STYLEGRAD_WEIGHTS_DIR:-$here/downloads}"

CYCLEGAN_MODELS="apple2orange orange2apple summer2winter_yosemite winter2summer_yosemite horse2zebra zebra2horse
monet2photo style_monet style_cezanne style_ukiyoe style_vangogh sat2map map2sat cityscapes_photo2label
cityscapes_label2photo facades_photo2label facades_label2photo iphone2dslr_flower"
PIX2PIX_MODELS="edges2shoes sat2map map2sat facades_label2photo day2night"

usage() {
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  echo
  echo "CycleGAN models: $(echo $CYCLEGAN_MODELS)"
  echo "pix2pix models: $(echo $PIX2PIX_MODELS)"
}

# check FILE SHA256_PREFIX: true when FILE's SHA-256 starts with the prefix (or there is none)
check() {
  local got
  got="$(sha256sum "$1" | cut -d' ' -f1)"
  [ -z "$2" ] || [ "${got:0:${#2}}" = "$2" ]
}

# fetch URL FILE [SHA256_PREFIX]
# The download goes to FILE.part and becomes FILE only once complete and
# checked, so an interrupted or corrupt download never passes for the real file.
fetch() {
  local url="$1" file="$2" want="${3:-}" out="$dest/$2"
  mkdir -p "$dest"
  if [ -f "$out" ]; then
    echo "$file: already in $dest"
    if ! check "$out" "$want"; then
      echo "error: $out does not have the official SHA-256 (starting $want); delete it and fetch again" >&2
      exit 1
    fi
  else
    echo "downloading $url"
    local tmp="$out.part"
    if command -v curl >/dev/null; then
      curl -fL --retry 2 -o "$tmp" "$url" || { rm -f "$tmp"; no_network "$url" "$file"; }
    elif command -v wget >/dev/null; then
      wget -O "$tmp" "$url" || { rm -f "$tmp"; no_network "$url" "$file"; }
    else
      echo "error: neither curl nor wget is installed (sudo apt-get install curl)" >&2
      exit 1
    fi
    if ! check "$tmp" "$want"; then
      rm -f "$tmp"
      echo "error: the download of $file does not have the official SHA-256 (starting $want); nothing was kept" >&2
      exit 1
    fi
    mv "$tmp" "$out"
  fi
  if [ -z "$want" ]; then  # no official checksum: record this file's, check it from now on
    local got
    got="$(sha256sum "$out" | cut -d' ' -f1)"
    if [ -f "$out.sha256" ] && [ "$(cat "$out.sha256")" != "$got" ]; then
      echo "error: $file changed since it was first downloaded (SHA-256 $got, recorded $(cat "$out.sha256"))" >&2
      exit 1
    elif [ ! -f "$out.sha256" ]; then
      echo "$got" > "$out.sha256"
      echo "note: no official checksum for $file; recorded its SHA-256 ($got) in $file.sha256"
    fi
  fi
  echo "ok: $out"
}

# pretrained_hint FILE NAME: where `stylegrad test --name NAME_pretrained` looks for it,
# as the official download scripts place it.
pretrained_hint() {
  echo "  for stylegrad test --name $2_pretrained: mkdir -p checkpoints/$2_pretrained && cp $dest/$1 checkpoints/$2_pretrained/latest_net_G.pth"
}

no_network() {
  echo "error: could not download $1" >&2
  echo "  No network here? Download it on a machine that has one and copy it to $dest/$2" >&2
  echo "  (or pass the file directly: stylegrad style --weights /path/to/$2 ...)" >&2
  exit 1
}

[ $# -ge 1 ] || { usage; exit 2; }
for name in "$@"; do
  case "$name" in
    -h|--help|--list) usage ;;
    vgg19) fetch https://download.pytorch.org/models/vgg19-dcbbb69f.pth vgg19-dcbbb69f.pth dcbbb69f ;;
    vgg16) fetch https://download.pytorch.org/models/vgg16-397923af.pth vgg16-397923af.pth 397923af ;;
    cut)
      fetch http://efrosgans.eecs.berkeley.edu/CUT/pretrained_models.tar cut_pretrained_models.tar
      mkdir -p "$dest/cut" && tar -xf "$dest/cut_pretrained_models.tar" -C "$dest/cut"
      echo "unpacked into $dest/cut (e.g. checkpoints/horse2zebra_cut_pretrained/latest_net_G.pth)" ;;
    cyclegan-*)
      model="${name#cyclegan-}"
      if ! echo " $(echo $CYCLEGAN_MODELS) " | grep -q " $model "; then
        echo "error: unknown CycleGAN model '$model'; one of: $(echo $CYCLEGAN_MODELS)" >&2
        exit 2
      fi
      fetch "http://efrosgans.eecs.berkeley.edu/cyclegan/pretrained_models/$model.pth" "cyclegan_$model.pth"
      pretrained_hint "cyclegan_$model.pth" "$model" ;;
    pix2pix-*)
      model="${name#pix2pix-}"
      if ! echo " $(echo $PIX2PIX_MODELS) " | grep -q " $model "; then
        echo "error: unknown pix2pix model '$model'; one of: $(echo $PIX2PIX_MODELS)" >&2
        exit 2
      fi
      fetch "http://efrosgans.eecs.berkeley.edu/pix2pix/models-pytorch/$model.pth" "pix2pix_$model.pth"
      pretrained_hint "pix2pix_$model.pth" "$model" ;;
    *) echo "error: unknown name '$name' (see weights/fetch.sh --list)" >&2; exit 2 ;;
  esac
done
