// SentencePiece BPE tokenizers (llama2, mistral): load failures with clear messages, known ids
// from the reference packages' own tests, decode round trips, special tokens, no allocation
// in count() once warm, huge inputs, concurrent use. Id parity over a large corpus is
// tests/tokens/sentencepiece_parity_test.mjs.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <new>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "switchyard/tokens/sentencepiece_bpe.hpp"
#include "switchyard/tokens/tokenizer_registry.hpp"
#include "switchyard/tokens/vocab_file.hpp"

// Counts heap allocations made by this thread while armed (for the steady-state check).
namespace {
thread_local bool t_count_allocations = false;
thread_local size_t t_allocations = 0;
}  // namespace

void* operator new(size_t n) {
    if (t_count_allocations) ++t_allocations;
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, size_t) noexcept {
    std::free(p);
}

namespace switchyard::tokens {
namespace {

namespace fs = std::filesystem;

const fs::path kData = fs::path(SWITCHYARD_GOLDEN_DIR) / ".." / "data" / "tokens";

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_file(const fs::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

class SentencePieceTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { registry_ = new TokenizerRegistry(default_vocab_dir()); }
    static void TearDownTestSuite() {
        delete registry_;
        registry_ = nullptr;
    }

    static const Tokenizer& get(std::string_view name) {
        auto got = registry_->get(name);
        if (auto* error = std::get_if<std::string>(&got)) {
            ADD_FAILURE() << *error;
            std::abort();
        }
        return *std::get<const Tokenizer*>(got);
    }

    static std::vector<TokenId> encode(const Tokenizer& t, std::string_view text) {
        std::vector<TokenId> ids;
        t.encode(text, ids);
        return ids;
    }

    fs::path temp_path(const std::string& name) const {
        return fs::temp_directory_path() /
               (name + "-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                "-" + std::to_string(reinterpret_cast<uintptr_t>(this)));
    }

    static std::string vocab_path(std::string_view name) {
        return default_vocab_dir() + "/" + std::string(name) + ".syvocab";
    }

    static TokenizerRegistry* registry_;
};

TokenizerRegistry* SentencePieceTest::registry_ = nullptr;

// Re-seals a vocabulary file whose payload was edited: SHA-256 of the payload at offset 24.
void reseal(std::string& file) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    ASSERT_EQ(EVP_Digest(file.data() + kVocabHeaderBytes, file.size() - kVocabHeaderBytes, digest,
                         &n, EVP_sha256(), nullptr),
              1);
    std::memcpy(file.data() + 24, digest, 32);
}

std::string load_error(const std::string& path) {
    auto loaded = load_sentencepiece_bpe(path);
    auto* error = std::get_if<std::string>(&loaded);
    return error != nullptr ? *error : std::string("(loaded)");
}

TEST_F(SentencePieceTest, MissingFileNamesPathAndFix) {
    const std::string error = load_error("/nonexistent/dir/llama2.syvocab");
    EXPECT_NE(error.find("/nonexistent/dir/llama2.syvocab"), std::string::npos) << error;
    EXPECT_NE(error.find("No such file"), std::string::npos) << error;
    EXPECT_NE(error.find("bootstrap.sh"), std::string::npos) << error;
}

TEST_F(SentencePieceTest, CorruptPayloadFailsChecksum) {
    std::string file = read_file(vocab_path("llama2"));
    ASSERT_GT(file.size(), 100000u);
    file[file.size() / 2] ^= 0x5A;
    const fs::path path = temp_path("corrupt.syvocab");
    write_file(path, file);
    const std::string error = load_error(path.string());
    fs::remove(path);
    EXPECT_NE(error.find("checksum mismatch"), std::string::npos) << error;
    EXPECT_NE(error.find(path.string()), std::string::npos) << error;
}

TEST_F(SentencePieceTest, TruncatedAndWrongKindFilesAreRefused) {
    std::string file = read_file(vocab_path("mistral"));
    const fs::path path = temp_path("bad.syvocab");
    write_file(path, file.substr(0, 50));
    EXPECT_NE(load_error(path.string()).find("truncated"), std::string::npos);
    std::string wrong_kind = file;
    wrong_kind[12] = 1;  // VocabKind::kByteLevelBpe
    write_file(path, wrong_kind);
    EXPECT_NE(load_error(path.string()).find("kind 1, expected 2"), std::string::npos);
    fs::remove(path);
}

TEST_F(SentencePieceTest, InconsistentLayoutIsRefusedEvenWithValidChecksum) {
    const std::string original = read_file(vocab_path("llama2"));
    const fs::path path = temp_path("layout.syvocab");
    struct Case {
        size_t payload_offset;
        uint32_t value;
        const char* expect;
    };
    const Case cases[] = {
        {0, 0x21212121, "bad payload magic"},  // magic
        {8, 99, "layout version 99"},          // layout version
        {40, 1000, "merge table capacity"},    // not a power of two
        {16, 1, "cannot load"},                // flags: merges cross a space boundary
        {80, 0xFFFFFF00, "merge table"},       // merge table offset out of bounds
    };
    for (const Case& c : cases) {
        std::string file = original;
        std::memcpy(file.data() + kVocabHeaderBytes + c.payload_offset, &c.value, 4);
        reseal(file);
        write_file(path, file);
        const std::string error = load_error(path.string());
        EXPECT_NE(error.find(c.expect), std::string::npos)
            << "offset " << c.payload_offset << ": " << error;
        EXPECT_NE(error.find(path.string()), std::string::npos) << error;
    }
    fs::remove(path);
}

TEST_F(SentencePieceTest, IdsFromTheReferencePackagesOwnTests) {
    const Tokenizer& llama = get("llama2");
    const Tokenizer& mistral = get("mistral");
    EXPECT_EQ(llama.name(), "llama2");
    EXPECT_EQ(mistral.name(), "mistral");
    using Ids = std::vector<TokenId>;
    // The packages' tests include BOS; encode() does not.
    EXPECT_EQ(encode(llama, "grabbed"), (Ids{2646, 1327, 287}));
    EXPECT_EQ(encode(llama, " grabbed"), (Ids{29871, 2646, 1327, 287}));
    EXPECT_EQ(encode(llama, "           grabbed"), (Ids{9651, 2646, 1327, 287}));
    EXPECT_EQ(encode(llama, "\n"), (Ids{29871, 13}));
    EXPECT_EQ(encode(llama, " \n"), (Ids{259, 13}));
    EXPECT_EQ(encode(llama, "\ttabs\t\t\t\tout here"),
              (Ids{29871, 12, 21175, 12, 12, 12, 12, 449, 1244}));
    EXPECT_EQ(encode(llama, "ax\n####\nboo"), (Ids{4853, 13, 4136, 13, 833, 29877}));
    EXPECT_EQ(encode(llama, "镇"), (Ids{29871, 30411}));
    EXPECT_EQ(encode(llama, "🦙Ꙋ"), (Ids{29871, 243, 162, 169, 156, 237, 156, 141}));
    EXPECT_EQ(encode(mistral, "grabbed"), (Ids{13300}));
    EXPECT_EQ(encode(mistral, "           grabbed"), (Ids{17422, 13300}));
    EXPECT_EQ(encode(mistral, "\ttabs\t\t\t\tout here"),
              (Ids{28705, 12, 24856, 12, 12, 12, 12, 406, 1236}));
    EXPECT_EQ(encode(mistral, "ax\n####\nboo"), (Ids{6056, 13, 2000, 13, 1798, 28709}));
    EXPECT_TRUE(encode(llama, "").empty());
    EXPECT_EQ(llama.count(""), 0u);
}

TEST_F(SentencePieceTest, InvalidUtf8IsTheReplacementPiece) {
    const Tokenizer& llama = get("llama2");
    // Each maximal ill-formed subpart is one U+FFFD (WHATWG), as TextDecoder gives the reference.
    EXPECT_EQ(encode(llama, "\xFF"), encode(llama, "\xEF\xBF\xBD"));
    EXPECT_EQ(encode(llama,
                     "a\xE2\x82"
                     "b"),
              encode(llama,
                     "a\xEF\xBF\xBD"
                     "b"));
    EXPECT_EQ(encode(llama, "\xED\xA0\x80"), encode(llama, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"));
    EXPECT_EQ(llama.decode(encode(llama, "x\xC0\x80y")), "x\xEF\xBF\xBD\xEF\xBF\xBDy");
}

TEST_F(SentencePieceTest, DecodeRoundTripsCorpusAndEdgeText) {
    std::vector<std::string> texts = {
        "",
        " ",
        "  leading and trailing  ",
        "\n\n\n",
        "\r\n\t",
        "emoji 👨‍👩‍👧‍👦 🇯🇵",
        "a  b   c",
        "<s> [INST] not special [/INST] </s>",
        std::string("nul\0byte", 8),
        "\xEF\xBB\xBF"
        "bom",
    };
    for (const auto& entry : fs::directory_iterator(kData)) {
        const std::string name = entry.path().filename().string();
        if (name.starts_with("sp_") && name.ends_with(".txt")) {
            // A literal U+2581 is the space piece and decodes as a space: leave it out here.
            std::string text = read_file(entry.path());
            for (size_t at; (at = text.find("\u2581")) != std::string::npos;)
                text.erase(at, 3);
            texts.push_back(std::move(text));
        }
    }
    ASSERT_GT(texts.size(), 15u);
    EXPECT_EQ(get("llama2").decode(encode(get("llama2"), "a\u2581b")), "a b");
    for (std::string_view vocabulary : {"llama2", "mistral"}) {
        const Tokenizer& t = get(vocabulary);
        for (const std::string& text : texts) {
            const std::vector<TokenId> ids = encode(t, text);
            EXPECT_EQ(t.decode(ids), text) << vocabulary << ": " << text.substr(0, 40);
            EXPECT_EQ(t.count(text), ids.size());
        }
    }
}

TEST_F(SentencePieceTest, DecodeDropsControlPiecesAndBadIds) {
    const Tokenizer& llama = get("llama2");
    std::vector<TokenId> ids = {1};
    llama.encode("Hello world", ids);
    ids.push_back(2);
    ids.push_back(0);
    ids.push_back(999999);
    EXPECT_EQ(llama.decode(ids), "Hello world");
    // The reference's own decode example: [2646, 1327, 287] is "grabbed".
    const std::vector<TokenId> grabbed = {2646, 1327, 287};
    EXPECT_EQ(llama.decode(grabbed), "grabbed");
}

TEST_F(SentencePieceTest, SpecialTokens) {
    for (std::string_view vocabulary : {"llama2", "mistral"}) {
        const Tokenizer& t = get(vocabulary);
        EXPECT_EQ(t.special_token("<unk>"), 0u);
        EXPECT_EQ(t.special_token("<s>"), 1u);
        EXPECT_EQ(t.special_token("</s>"), 2u);
        EXPECT_EQ(t.special_token("[INST]"), std::nullopt);  // plain text in this family
        EXPECT_EQ(t.special_token("<0x0A>"), std::nullopt);
        EXPECT_EQ(t.special_token("<|endoftext|>"), std::nullopt);
        // Special-token strings in the text are ordinary text.
        std::vector<TokenId> ids = encode(t, "<s>");
        EXPECT_GT(ids.size(), 1u);
    }
}

TEST_F(SentencePieceTest, CountAllocatesNothingOnceWarm) {
    const Tokenizer& t = get("mistral");
    const std::string text = read_file(kData / "sp_prose.txt") + read_file(kData / "sp_code.txt") +
                             std::string(200, 'x');  // one long segment: the heap path
    const size_t warm = t.count(text);
    t_allocations = 0;
    t_count_allocations = true;
    size_t n = 0;
    for (int i = 0; i < 10; ++i)
        n += t.count(text);
    t_count_allocations = false;
    EXPECT_EQ(n, 10 * warm);
    EXPECT_EQ(t_allocations, 0u);
}

TEST_F(SentencePieceTest, HugeInputsAreSafe) {
    const Tokenizer& t = get("llama2");
    // Past kMaxSegmentSymbols with no space: cut into segments, still valid ids.
    const std::string run(kMaxSegmentSymbols * 2 + 12345, 'a');
    const std::vector<TokenId> ids = encode(t, run);
    EXPECT_EQ(t.count(run), ids.size());
    EXPECT_EQ(t.decode(ids), run);
    EXPECT_LT(ids.size(), run.size() / 3);
    // Many short segments: 8 MiB of prose.
    std::string prose = read_file(kData / "sp_prose.txt");
    std::string big;
    while (big.size() < (size_t{8} << 20))
        big += prose;
    EXPECT_EQ(t.count(big), encode(t, big).size());
}

TEST_F(SentencePieceTest, ConcurrentCountsAgree) {
    const Tokenizer& t = get("llama2");
    const std::string text = read_file(kData / "sp_mixed.txt") + read_file(kData / "sp_cjk.txt");
    const size_t want = t.count(text);
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
        threads.emplace_back([&] {
            for (int k = 0; k < 200; ++k) {
                if (t.count(text) != want) ++wrong;
            }
        });
    }
    for (auto& th : threads)
        th.join();
    EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace switchyard::tokens
