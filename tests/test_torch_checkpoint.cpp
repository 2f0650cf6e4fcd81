// weights/: the pickle VM, the zip reader and the torch checkpoint loader,
// against files written by torch itself and hostile ones. The files and the
// values they must give come from scripts/make_checkpoints.py.
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "tests/test_util.h"
#include "weights/pickle.h"
#include "weights/torch_checkpoint.h"
#include "weights/zip.h"

using namespace sg;
using namespace sg::test;
using pickle::Value;
using Kind = pickle::Value::Kind;

namespace {

std::string data_path(const std::string& name) {
  return std::string(STYLEGRAD_SOURCE_DIR) + "/tests/data/checkpoints/" + name;
}

std::vector<uint8_t> read_bytes(const std::string& name) {
  std::ifstream in(data_path(name), std::ios::binary);
  REQUIRE(in);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

// One line of <stem>.expected.txt plus its values from <stem>.expected.bin.
struct Expected {
  std::string name, dtype;
  Shape shape;
  Strides stride;
  int64_t offset = 0;
  std::vector<double> floats;  // floating and bool tensors
  std::vector<int64_t> ints;   // integer tensors
  bool is_int() const { return dtype.find("int") != std::string::npos; }
  bool is_bool() const { return dtype == "bool"; }
};

Dims parse_dims(const std::string& text) {
  Dims d;
  if (text == "-") return d;
  std::stringstream in(text);
  for (std::string x; std::getline(in, x, ',');) d.push_back(std::stoll(x));
  return d;
}

std::vector<Expected> read_expected(const std::string& stem) {
  std::ifstream text(data_path(stem + ".expected.txt"));
  const std::vector<uint8_t> blob = read_bytes(stem + ".expected.bin");
  REQUIRE(text);
  std::vector<Expected> all;
  size_t at = 0;
  for (std::string line; std::getline(text, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::stringstream fields(line);
    Expected e;
    std::string shape, stride;
    fields >> e.name >> e.dtype >> shape >> stride >> e.offset;
    e.shape = parse_dims(shape);
    e.stride = parse_dims(stride);
    for (int64_t i = 0; i < e.shape.numel(); ++i, at += 8) {
      REQUIRE(at + 8 <= blob.size());
      if (e.is_int()) {
        int64_t v;
        std::memcpy(&v, blob.data() + at, 8);
        e.ints.push_back(v);
      } else {
        double v;
        std::memcpy(&v, blob.data() + at, 8);
        e.floats.push_back(v);
      }
    }
    all.push_back(e);
  }
  CHECK(at == blob.size());
  return all;
}

// Names, dtypes, shapes, strides, offsets and every value, exactly. Floating
// tensors loaded as f32 must hold the expected value rounded to float.
void check_tensors(const NamedTensors& got, const std::vector<Expected>& expected, DType want) {
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    const Expected& e = expected[i];
    const Tensor& t = got[i].second;
    INFO("tensor ", e.name, " loaded as ", dtype_name(want));
    CHECK(got[i].first == e.name);
    CHECK(t.shape() == e.shape);
    CHECK(t.strides() == e.stride);
    CHECK(t.offset() == e.offset);
    if (e.is_int()) {
      REQUIRE(t.dtype() == DType::i64);
      const Tensor c = t.contiguous();
      CHECK(std::vector<int64_t>(c.data<int64_t>(), c.data<int64_t>() + c.numel()) == e.ints);
      continue;
    }
    CHECK(t.dtype() == (e.is_bool() ? DType::b8 : want));
    const std::vector<double> values = t.to_vector();
    REQUIRE(values.size() == e.floats.size());
    for (size_t k = 0; k < values.size(); ++k) {
      const double wanted = want == DType::f32 ? double(float(e.floats[k])) : e.floats[k];
      INFO("element ", k);
      CHECK(values[k] == wanted);
      CHECK(std::signbit(values[k]) == std::signbit(wanted));  // -0.0 stays -0.0
    }
  }
}

const Tensor& find_tensor(const NamedTensors& tensors, const std::string& name) {
  for (const auto& [n, t] : tensors)
    if (n == name) return t;
  FAIL("no tensor ", name);
  static Tensor none;
  return none;
}

pickle::Unpickled unpickle_text(const std::string& bytes, const std::set<std::string>& allowed = {}) {
  const ByteSpan span{reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()};
  return pickle::unpickle(span, 0, allowed);
}

// A string literal's bytes, embedded zeros included.
template <size_t N>
std::string bytes(const char (&literal)[N]) {
  return std::string(literal, N - 1);
}

std::string unpickle_error(const std::string& bytes, const std::set<std::string>& allowed = {}) {
  return error_of([&] { unpickle_text(bytes, allowed); });
}

}  // namespace

TEST_CASE("torch checkpoint: zip, legacy, protocol 4 and ZIP64 files give torch's tensors exactly") {
  const std::vector<Expected> expected = read_expected("tensors");
  for (const char* file : {"tensors_zip.pt", "tensors_legacy.pt", "tensors_proto4.pt", "tensors_zip64.pt"}) {
    INFO("file ", file);
    for (DType want : {DType::f32, DType::f64}) {
      const NamedTensors tensors = load_torch_checkpoint(data_path(file), want);
      check_tensors(tensors, expected, want);
      // Views keep torch's sharing: shared.a and shared.b are one storage.
      CHECK(find_tensor(tensors, "shared.a").storage() == find_tensor(tensors, "shared.b").storage());
      CHECK(find_tensor(tensors, "shared.a").storage() != find_tensor(tensors, "transposed").storage());
      CHECK_FALSE(find_tensor(tensors, "transposed").is_contiguous());
    }
    // The in-memory entry point reads the same bytes the same way.
    const std::vector<uint8_t> bytes = read_bytes(file);
    check_tensors(load_torch_checkpoint_from_memory(bytes.data(), bytes.size()), expected, DType::f32);
  }
}

TEST_CASE("torch checkpoint: legacy files as torch < 0.4 wrote them (torchvision's VGG weights)") {
  // _rebuild_tensor (v1) and Python 2.7's OrderedDict([[key, value], ...]).
  const NamedTensors tensors = load_torch_checkpoint(data_path("old_style_legacy.pt"));
  check_tensors(tensors, read_expected("old_style"), DType::f32);
  CHECK(find_tensor(tensors, "classifier.weight").storage() == find_tensor(tensors, "classifier.row").storage());
}

TEST_CASE("torch checkpoint: {'state_dict': ..., 'epoch': 3} wrappers and nested dicts") {
  const NamedTensors tensors = load_torch_checkpoint(data_path("wrapped.pt"));
  check_tensors(tensors, read_expected("wrapped"), DType::f32);
  CHECK(tensors.front().first == "0.weight");  // file order, no prefix

  const TorchCheckpoint checkpoint = TorchCheckpoint::open(data_path("wrapped.pt"));
  const Value* epoch = checkpoint.root().find("epoch");
  REQUIRE(epoch);
  CHECK(epoch->is(Kind::integer));
  CHECK(epoch->integer == 3);
  CHECK(&find_state_dict(checkpoint.root()) == checkpoint.root().find("state_dict"));

  // Nested dicts are flattened with '.'; a legacy file this time.
  check_tensors(load_torch_checkpoint(data_path("nested_legacy.pt"), DType::f64), read_expected("nested"),
                DType::f64);
}

TEST_CASE("torch checkpoint: hostile and broken files give one clear error line") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"evil_posix_system.pt", "refusing to load global 'posix.system'"},
      {"evil_os_system.pkl", "refusing to load global 'os.system'"},
      {"truncated_zip.pt", "no end-of-central-directory record"},
      {"truncated_legacy.pt", "truncated"},
      {"bad_magic_legacy.pt", "bad magic number"},
      {"short_storage.pt", "storage entry 'short_storage/data/0' has 8 bytes but its 4 elements (torch.FloatStorage) need 16"},
      {"missing_storage.pt", "storage '0' is missing: no entry 'missing_storage/data/0'"},
      {"view_out_of_bounds.pt", "tensor 'w': view (offset 1, size [2, 2], stride [2, 1]) reaches outside its storage '0' of 4 elements"},
      {"view_stride0_huge.pt", "tensor 'w': view (offset 0, size [1000000, 1000000], stride [0, 0]) claims 1000000000000 elements but its storage '0' holds only 1"},
      {"view_size_overflow.pt", "tensor 'w': view (offset 0, size [4294967296, 4294967296, 4], stride [0, 0, 0]): the element count overflows int64"},
      {"unknown_storage_type.pt", "unknown storage type 'collections.OrderedDict'"},
      {"compressed.pt", "zip: entry 'compressed/data.pkl' is compressed (method 8, deflate)"},
      {"not_tensors.pt", "entry 'state_dict.note' (a str) is not a tensor"},
      {"no_such_file.pt", "cannot open"},
      {"tensors.expected.txt", "not a PyTorch checkpoint"},
  };
  for (const auto& [file, message] : cases) {
    const std::string error = error_of([&] { load_torch_checkpoint(data_path(file)); });
    INFO("file ", file, ": ", error);
    CHECK(error.find(message) != std::string::npos);
    CHECK(error.find(file) != std::string::npos);  // names the file
    CHECK(error.find('\n') == std::string::npos);  // one line
    // Listing (weights-info) checks views as loading does, so it refuses the same files.
    if (file.rfind("view_", 0) == 0) CHECK(error_of([&] { list_torch_checkpoint(data_path(file)); }) == error);
  }
  // The same through the in-memory entry point, named "<memory>".
  const std::vector<uint8_t> evil = read_bytes("evil_posix_system.pt");
  CHECK(error_of([&] { load_torch_checkpoint_from_memory(evil.data(), evil.size()); }).rfind("<memory>: ", 0) == 0);
  // Only float32/float64 are valid targets for floating storages.
  const TorchCheckpoint ok = TorchCheckpoint::open(data_path("tensors_zip.pt"));
  CHECK(error_of([&] { ok.tensors(ok.root(), DType::i64); }).find("float32 or float64") != std::string::npos);
}

TEST_CASE("torch checkpoint: listing gives each tensor's stored dtype and shape, converting nothing") {
  const std::vector<Expected> expected = read_expected("tensors");
  for (const char* file : {"tensors_zip.pt", "tensors_legacy.pt", "tensors_proto4.pt", "tensors_zip64.pt"}) {
    INFO(file);
    const StoredTensors listed = list_torch_checkpoint(data_path(file));
    REQUIRE(listed.size() == expected.size());
    for (size_t i = 0; i < listed.size(); ++i) {
      CHECK(listed[i].name == expected[i].name);
      CHECK(listed[i].dtype == expected[i].dtype);  // torch's float16, bfloat16, int32, uint8, ...
      CHECK(listed[i].shape == expected[i].shape);
    }
  }
}

TEST_CASE("zip: entries, stored data and ZIP64 records") {
  for (const char* file : {"tensors_zip.pt", "tensors_zip64.pt"}) {
    const std::vector<uint8_t> bytes = read_bytes(file);
    const zip::Archive archive(ByteSpan{bytes.data(), bytes.size()});
    const std::string dir = std::string(file).substr(0, std::string(file).size() - 3);
    CHECK(archive.entries().size() == 16);  // data.pkl, 14 storages, version
    CHECK(archive.entries().front().name == dir + "/data.pkl");
    const zip::Entry* version = archive.find(dir + "/version");
    REQUIRE(version);
    CHECK(archive.read(*version).str() == "3\n");
    CHECK(archive.find("nope") == nullptr);
  }
  const std::string garbage(100, 'x');
  CHECK(error_of([&] { zip::Archive(ByteSpan{reinterpret_cast<const uint8_t*>(garbage.data()), garbage.size()}); })
            .find("no end-of-central-directory") != std::string::npos);
}

TEST_CASE("pickle: torch's data.pkl, protocols 2 and 4") {
  for (const char* file : {"tensors_p2.pkl", "tensors_p4.pkl"}) {
    const std::vector<uint8_t> bytes = read_bytes(file);
    const pickle::Unpickled p =
        pickle::unpickle(ByteSpan{bytes.data(), bytes.size()}, 0, torch_checkpoint_allowed_globals());
    CHECK(p.end == bytes.size());
    REQUIRE(p.root->is(Kind::dict));
    CHECK(p.root->entries.size() == 15);
    CHECK(p.root->entries[0].first->text == "conv.weight");
    const Value* weight = p.root->find("conv.weight");
    REQUIRE(weight);
    CHECK(weight->callable_name() == "torch._utils._rebuild_tensor_v2");
    CHECK(p.root->find("conv.bias")->callable_name() == "torch._utils._rebuild_parameter");
    CHECK(p.persistent_ids.size() == 15);  // one per tensor; shared.a and shared.b name the same key
    // Without the allow-list the first global is refused.
    CHECK(error_of([&] { pickle::unpickle(ByteSpan{bytes.data(), bytes.size()}, 0, {}); })
              .find("refusing to load global 'collections.OrderedDict'") != std::string::npos);
  }
}

TEST_CASE("pickle: values, memo, big integers and cycles") {
  // [1, -2, 3.5, 'ab', b'c', None, True, (), 2**70, -1 (as a 9-byte LONG1)]
  const std::string program = bytes("\x80\x02]q\x00(K\x01J\xfe\xff\xff\xff") +
                              bytes("G\x40\x0c\x00\x00\x00\x00\x00\x00") +  // 3.5, big-endian
                              bytes("X\x02\x00\x00\x00" "ab") + "C\x01" "c" "N\x88)" +
                              bytes("\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x40") +
                              bytes("\x8a\x09\xff\xff\xff\xff\xff\xff\xff\xff\xff") + "e.";
  const pickle::Unpickled p = unpickle_text(program);
  REQUIRE(p.root->is(Kind::list));
  const auto& items = p.root->items;
  REQUIRE(items.size() == 10);
  CHECK(items[0]->integer == 1);
  CHECK(items[1]->integer == -2);
  CHECK(items[2]->floating == 3.5);
  CHECK(items[3]->text == "ab");
  CHECK(items[4]->is(Kind::bytes));
  CHECK(items[5]->is(Kind::none));
  CHECK((items[6]->is(Kind::boolean) && items[6]->integer == 1));
  CHECK((items[7]->is(Kind::tuple) && items[7]->items.empty()));
  CHECK(items[8]->is(Kind::big_integer));
  CHECK((items[9]->is(Kind::integer) && items[9]->integer == -1));

  // A list that contains itself: fine for the VM (values live in an arena).
  const pickle::Unpickled cycle = unpickle_text(bytes("\x80\x02]q\x00h\x00" "a."));
  CHECK(cycle.root->items.at(0) == cycle.root);
  // A dict that contains itself: the flattener refuses it instead of looping.
  const pickle::Unpickled dict_cycle = unpickle_text(bytes("}q\x00X\x01\x00\x00\x00" "ah\x00s."));
  CHECK(error_of([&] { find_state_dict(*dict_cycle.root); }).find("appears twice") != std::string::npos);
}

TEST_CASE("pickle: malformed programs give errors, not crashes") {
  CHECK(unpickle_error("cposix\nsystem\n.").find("refusing to load global 'posix.system'") != std::string::npos);
  CHECK(unpickle_error("R.").find("stack underflow") != std::string::npos);
  CHECK(unpickle_error("h\x05.").find("memo entry 5 was never stored") != std::string::npos);
  CHECK(unpickle_error(bytes("X\xff\x00\x00\x00" "ab")).find("truncated") != std::string::npos);
  CHECK(unpickle_error("\x80\x02N").find("truncated") != std::string::npos);  // no STOP
  CHECK(unpickle_error("I12\n.").find("unsupported opcode 0x49 'I'") != std::string::npos);
  CHECK(unpickle_error("\x80\x06N.").find("unsupported pickle protocol 6") != std::string::npos);
  CHECK(unpickle_error("]}b.").find("BUILD (setting state) on a list") != std::string::npos);
  CHECK(unpickle_error("(N(Nu.").find("setting items of a None") != std::string::npos);
  CHECK(unpickle_error("}(Nu.").find("odd number of keys and values") != std::string::npos);
  CHECK(unpickle_error("K\x01K\x02R.").find("calling an int") != std::string::npos);
  CHECK(unpickle_error(std::string(5000, '(') + ".").find("nested MARKs") != std::string::npos);
  // Errors say which opcode at which byte.
  CHECK(unpickle_error("NNt.").find("no MARK to pop to (opcode 0x74 at byte 2)") != std::string::npos);
}
