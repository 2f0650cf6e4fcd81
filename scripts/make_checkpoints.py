#!/usr/bin/python3
"""Writes the small PyTorch checkpoints that tests/test_torch_checkpoint.cpp reads.

Run from anywhere with the system Python and torch (1.13 was used):

    /usr/bin/python3 scripts/make_checkpoints.py

Everything goes to tests/data/checkpoints/ (committed, about 30 KB):

  good files, checked against <stem>.expected.{txt,bin}:
    tensors_zip.pt          a state_dict in torch.save's default zip format
    tensors_legacy.pt       the same, _use_new_zipfile_serialization=False
    tensors_proto4.pt       the same, zip, pickle protocol 4 (STACK_GLOBAL, MEMOIZE, FRAME)
    tensors_zip64.pt        the same entries re-zipped with every size/offset in ZIP64 records
    tensors_p2.pkl / tensors_p4.pkl   the raw data.pkl of the zip files (pickle VM tests, fuzz seeds)
    wrapped.pt              {'state_dict': <a module's state_dict>, 'epoch': 3}
    nested_legacy.pt        {'gen': {'w': .., 'sub': {'b': ..}}, 'disc': {'w': ..}}, legacy format
    old_style_legacy.pt     legacy format as torch < 0.4 on Python 2.7 wrote it (torchvision's
                            vgg16-397923af.pth): _rebuild_tensor (v1) and OrderedDict([[k, v], ...])
  hostile files, each must fail with one clear error line:
    evil_posix_system.pt    zip whose data.pkl calls posix.system (bytes written by hand)
    evil_os_system.pkl      a bare pickle calling os.system via STACK_GLOBAL (bytes written by hand)
    truncated_zip.pt / truncated_legacy.pt   cut-off copies of good files
    bad_magic_legacy.pt     legacy file whose magic number is off by one bit
    short_storage.pt        a storage entry shorter than its element count needs
    missing_storage.pt      a storage entry that is not in the archive
    view_out_of_bounds.pt   a tensor whose size/stride reach past its storage
    view_stride0_huge.pt    a stride-0 view inside a 1-element storage claiming 10^12 elements
    view_size_overflow.pt   a stride-0 view whose sizes multiply past 2^63
    unknown_storage_type.pt a storage whose type is collections.OrderedDict
    compressed.pt           a good checkpoint re-zipped with deflate
    not_tensors.pt          {'state_dict': {'w': tensor, 'note': 'hello'}, 'epoch': 3}

The expected-values format: <stem>.expected.txt has one line per tensor,
    name dtype shape stride storage_offset
(shape and stride comma-separated, '-' for a 0-dim tensor), and
<stem>.expected.bin holds every tensor's elements in row-major order, one
after the other: int64 for integer dtypes, float64 for the rest (bool as 0/1),
little-endian. float64 holds every fp16/bf16/fp32 value exactly.

The hostile pickles are written byte by byte and never unpickled here.
"""
import collections
import io
import os
import pickle
import struct
import zipfile
import zlib

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'data', 'checkpoints')


def path(name):
    return os.path.join(OUT, name)


# ---------------------------------------------------------------- good files

def state_dict():
    """Every storage type and view layout the loader must handle."""
    gen = torch.Generator().manual_seed(0)
    base = torch.arange(10, dtype=torch.float32) * 0.5  # one storage shared by two views
    sd = collections.OrderedDict()
    sd['conv.weight'] = torch.randn(2, 3, 2, 2, generator=gen)
    sd['conv.bias'] = torch.nn.Parameter(torch.tensor([0.25, -1.5]))  # pickled via _rebuild_parameter
    sd['float64'] = torch.tensor([1 / 3, -2.0, 1e300], dtype=torch.float64)
    sd['float16'] = torch.tensor([1.0, -0.5, 65504.0, 2.0**-24, 2.0**-14, -0.0, float('inf'), 0.1],
                                 dtype=torch.float16)  # max, smallest subnormal, smallest normal, -0, inf
    sd['bfloat16'] = torch.tensor([1.0, -3.140625, 1e38, 2.0**-133, float('-inf')], dtype=torch.bfloat16)
    sd['bn.num_batches_tracked'] = torch.tensor(7)  # int64, 0-dim
    sd['int64'] = torch.tensor([-3, 2**40, 2**62 + 1])
    sd['int32'] = torch.tensor([-5, 2**31 - 1], dtype=torch.int32)
    sd['uint8'] = torch.tensor([0, 255, 7], dtype=torch.uint8)
    sd['bool'] = torch.tensor([True, False, True])
    sd['transposed'] = torch.arange(12, dtype=torch.float32).view(3, 4).t()  # stride (1, 4)
    sd['shared.a'] = base[2:6].view(2, 2)  # storage offset 2
    sd['shared.b'] = base[5:]  # storage offset 5, overlapping shared.a
    sd['scalar'] = torch.tensor(2.5)
    sd['empty'] = torch.zeros(0, 3)
    return sd


def wrapped_model():
    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 2), torch.nn.BatchNorm2d(2))
    net[1].running_mean.fill_(0.5)
    net[1].num_batches_tracked.fill_(3)
    return net.state_dict()  # an OrderedDict with a _metadata attribute (pickled with BUILD)


def nested():
    return {'gen': {'w': torch.tensor([1.0, 2.0]), 'sub': {'b': torch.tensor([3.0])}},
            'disc': collections.OrderedDict(w=torch.tensor([[4.0, 5.0]], dtype=torch.float64))}


class OldTensor:
    """Pickled as torch < 0.4 pickled tensors: _rebuild_tensor(storage, offset, size, stride)."""

    def __init__(self, t):
        self.t = t

    def __reduce__(self):
        t = self.t
        return torch._utils._rebuild_tensor, (t.storage(), t.storage_offset(), tuple(t.size()), t.stride())


class OldOrderedDict(collections.OrderedDict):
    """Pickled as Python 2.7 pickled OrderedDicts: OrderedDict([[key, value], ...])."""

    def __reduce__(self):
        return collections.OrderedDict, ([[k, v] for k, v in self.items()],)


def old_style():
    gen = torch.Generator().manual_seed(2)
    weight = torch.randn(3, 2, generator=gen)
    return collections.OrderedDict([('features.0.weight', torch.randn(2, 1, 3, 3, generator=gen)),
                                    ('features.0.bias', torch.randn(2, generator=gen)),
                                    ('classifier.weight', weight.t()),
                                    ('classifier.row', weight[1])])


def write_expected(stem, tensors):
    """<stem>.expected.txt + .bin, from a flat {name: tensor}."""
    lines, blob = [], bytearray()
    for name, t in tensors.items():
        t = t.detach()
        dims = lambda xs: ','.join(str(x) for x in xs) if len(xs) else '-'
        lines.append(f'{name} {str(t.dtype).replace("torch.", "")} {dims(t.shape)} {dims(t.stride())} '
                     f'{t.storage_offset()}')
        values = t.contiguous().flatten().tolist()
        is_int = not t.dtype.is_floating_point and t.dtype != torch.bool
        blob += struct.pack(f'<{len(values)}{"q" if is_int else "d"}', *values)
    with open(path(stem + '.expected.txt'), 'w') as f:
        f.write('# name dtype shape stride storage_offset; values in ' + stem + '.expected.bin\n')
        f.write('\n'.join(lines) + '\n')
    with open(path(stem + '.expected.bin'), 'wb') as f:
        f.write(blob)


def flat(d, prefix=''):
    out = collections.OrderedDict()
    for k, v in d.items():
        name = f'{prefix}{k}'
        if isinstance(v, dict):
            out.update(flat(v, name + '.'))
        else:
            out[name] = v
    return out


def check_loads(filename, expected):
    """torch itself must read the file back to the same tensors."""
    loaded = flat(torch.load(path(filename)))
    assert list(loaded) == list(expected), (filename, list(loaded))
    for name, t in expected.items():
        u = loaded[name]
        assert u.dtype == t.dtype and u.shape == t.shape and u.stride() == t.stride(), (filename, name)
        assert torch.equal(u, t.detach()), (filename, name)


def write_zip64(filename, entries):
    """A stored ZIP whose sizes and offsets all live in ZIP64 records (as
    torch writes archives over 4 GiB): 0xFFFFFFFF in the headers, the real
    values in ZIP64 extra fields, a ZIP64 end record and locator."""
    out, central = bytearray(), bytearray()
    for name, data in entries:
        offset, crc, encoded = len(out), zlib.crc32(data), name.encode()
        extra = struct.pack('<HHQQ', 1, 16, len(data), len(data))
        out += struct.pack('<IHHHHHIIIHH', 0x04034b50, 45, 0, 0, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                           len(encoded), len(extra)) + encoded + extra + data
        extra = struct.pack('<HHQQQ', 1, 24, len(data), len(data), offset)
        central += struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 45, 45, 0, 0, 0, 0, crc, 0xFFFFFFFF,
                               0xFFFFFFFF, len(encoded), len(extra), 0, 0, 0, 0, 0xFFFFFFFF) + encoded + extra
    directory_offset = len(out)
    out += central
    zip64_end = len(out)
    out += struct.pack('<IQHHIIQQQQ', 0x06064b50, 44, 45, 45, 0, 0, len(entries), len(entries), len(central),
                       directory_offset)
    out += struct.pack('<IIQI', 0x07064b50, 0, zip64_end, 1)
    out += struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    with open(path(filename), 'wb') as f:
        f.write(out)


def zip_entries(filename):
    with zipfile.ZipFile(path(filename)) as z:
        return [(i.filename, z.read(i.filename)) for i in z.infolist()]


def write_good_files():
    sd = state_dict()
    torch.save(sd, path('tensors_zip.pt'))
    torch.save(sd, path('tensors_legacy.pt'), _use_new_zipfile_serialization=False)
    torch.save(sd, path('tensors_proto4.pt'), pickle_protocol=4)
    write_zip64('tensors_zip64.pt', [(n.replace('tensors_zip/', 'tensors_zip64/'), d)
                                     for n, d in zip_entries('tensors_zip.pt')])
    for stem, source in (('tensors_p2', 'tensors_zip'), ('tensors_p4', 'tensors_proto4')):
        with open(path(stem + '.pkl'), 'wb') as f:
            f.write(dict(zip_entries(source + '.pt'))[source + '/data.pkl'])
    write_expected('tensors', sd)
    for f in ('tensors_zip.pt', 'tensors_legacy.pt', 'tensors_proto4.pt', 'tensors_zip64.pt'):
        check_loads(f, sd)

    model = wrapped_model()
    torch.save({'state_dict': model, 'epoch': 3}, path('wrapped.pt'))
    write_expected('wrapped', model)
    assert list(torch.load(path('wrapped.pt'))['state_dict']) == list(model)

    torch.save(nested(), path('nested_legacy.pt'), _use_new_zipfile_serialization=False)
    write_expected('nested', flat(nested()))
    check_loads('nested_legacy.pt', flat(nested()))

    old = old_style()
    torch.save(OldOrderedDict((k, OldTensor(v)) for k, v in old.items()), path('old_style_legacy.pt'),
               _use_new_zipfile_serialization=False)
    write_expected('old_style', old)
    check_loads('old_style_legacy.pt', old)


# ---------------------------------------------------------------- hostile files

class FakeStorage:
    """Pickled as a persistent id, like torch's storages, with any fields a test needs."""

    def __init__(self, storage_type, key, numel):
        self.storage_type, self.key, self.numel = storage_type, key, numel


class FakeTensor:
    """Pickled as torch pickles a tensor, but with any offset/size/stride."""

    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, size, stride, False, collections.OrderedDict())

    def __reduce__(self):
        return torch._utils._rebuild_tensor_v2, self.args


def pickle_with_storages(obj):
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=2)
    pickler.persistent_id = lambda o: (('storage', o.storage_type, o.key, 'cpu', o.numel)
                                       if isinstance(o, FakeStorage) else None)
    pickler.dump(obj)
    return buffer.getvalue()


def write_torch_zip(filename, data_pkl, storages, compression=zipfile.ZIP_STORED):
    """The layout of torch.save's archive: <stem>/data.pkl, <stem>/data/<key>, <stem>/version."""
    stem = filename.rsplit('.', 1)[0]
    with zipfile.ZipFile(path(filename), 'w', compression) as z:
        z.writestr(f'{stem}/data.pkl', data_pkl)
        for key, data in storages.items():
            z.writestr(f'{stem}/data/{key}', data)
        z.writestr(f'{stem}/version', b'3\n')


def float_bytes(values):
    return struct.pack(f'<{len(values)}f', *values)


def write_hostile_files():
    # posix.system('echo pwned'), protocol 2: GLOBAL, BINUNICODE, TUPLE1, REDUCE, STOP.
    command = b'echo pwned'
    evil = (b'\x80\x02' + b'cposix\nsystem\n' + b'X' + struct.pack('<I', len(command)) + command +
            b'\x85' + b'R' + b'.')
    write_torch_zip('evil_posix_system.pt', evil, {})
    # os.system('echo pwned'), protocol 4: SHORT_BINUNICODE x2, STACK_GLOBAL, ..., REDUCE.
    evil4 = (b'\x80\x04' + b'\x8c\x02os' + b'\x8c\x06system' + b'\x93' + b'\x8c' + bytes([len(command)]) +
             command + b'\x85' + b'R' + b'.')
    with open(path('evil_os_system.pkl'), 'wb') as f:
        f.write(evil4)

    with open(path('tensors_zip.pt'), 'rb') as f:
        good_zip = f.read()
    with open(path('truncated_zip.pt'), 'wb') as f:
        f.write(good_zip[:len(good_zip) // 2])
    with open(path('tensors_legacy.pt'), 'rb') as f:
        good_legacy = f.read()
    with open(path('truncated_legacy.pt'), 'wb') as f:
        f.write(good_legacy[:-10])  # cuts into the last storage's bytes
    assert good_legacy[4:14] == bytes.fromhex('6cfc9c46f9206aa85019')  # LONG1 0x1950a86a20f9469cfc6c
    with open(path('bad_magic_legacy.pt'), 'wb') as f:
        f.write(good_legacy[:4] + bytes([good_legacy[4] ^ 1]) + good_legacy[5:])

    four = FakeStorage(torch.FloatStorage, '0', 4)
    w = {'w': FakeTensor(four, 0, (4,), (1,))}
    write_torch_zip('short_storage.pt', pickle_with_storages(w), {'0': float_bytes([1, 2])})
    write_torch_zip('missing_storage.pt', pickle_with_storages(w), {})
    write_torch_zip('view_out_of_bounds.pt', pickle_with_storages({'w': FakeTensor(four, 1, (2, 2), (2, 1))}),
                    {'0': float_bytes([1, 2, 3, 4])})  # reads elements 1..4 of 0..3
    one = FakeStorage(torch.FloatStorage, '0', 1)
    write_torch_zip('view_stride0_huge.pt',
                    pickle_with_storages({'w': FakeTensor(one, 0, (1000000, 1000000), (0, 0))}),
                    {'0': float_bytes([1])})
    write_torch_zip('view_size_overflow.pt',
                    pickle_with_storages({'w': FakeTensor(one, 0, (2**32, 2**32, 4), (0, 0, 0))}),
                    {'0': float_bytes([1])})
    odd = FakeStorage(collections.OrderedDict, '0', 4)
    write_torch_zip('unknown_storage_type.pt', pickle_with_storages({'w': FakeTensor(odd, 0, (4,), (1,))}),
                    {'0': float_bytes([1, 2, 3, 4])})
    write_torch_zip('compressed.pt', pickle_with_storages(w), {'0': float_bytes([1, 2, 3, 4])},
                    zipfile.ZIP_DEFLATED)
    torch.save({'state_dict': {'w': torch.ones(2), 'note': 'hello'}, 'epoch': 3}, path('not_tensors.pt'))


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    write_good_files()
    write_hostile_files()
    total = sum(os.path.getsize(path(f)) for f in os.listdir(OUT))
    print(f'wrote {len(os.listdir(OUT))} files, {total} bytes, to {os.path.normpath(OUT)}')
