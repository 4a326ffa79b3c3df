// Unit tests of the six chunkers: the invariants every chunk keeps (exact byte and code-point
// offsets, valid UTF-8, metadata, sizes), each strategy's own rules, and bad input.
// LangChain parity of the recursive splitter is tests/rag/langchain_parity_test.mjs.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "switchyard/rag/chunking/character_chunker.hpp"
#include "switchyard/rag/chunking/chunker_factory.hpp"
#include "switchyard/rag/chunking/paragraph_chunker.hpp"
#include "switchyard/rag/chunking/recursive_chunker.hpp"
#include "switchyard/rag/chunking/semantic_chunker.hpp"
#include "switchyard/rag/chunking/sentence_chunker.hpp"
#include "switchyard/rag/chunking/sliding_window_chunker.hpp"
#include "switchyard/rag/chunking/structural_chunker.hpp"
#include "switchyard/rag/chunking/text_units.hpp"
#include "switchyard/tokens/tokenizer_registry.hpp"
#include "switchyard/tokens/vocab_file.hpp"

namespace switchyard::rag {
namespace {

const char* kProse =
    "Mr. Smith went to Washington on Jan. 5. He paid $3.14 for coffee, i.e. too much! "
    "\"Is it worth it?\" he asked. Nobody knew.\n\n"
    "The U.S. Senate met at 9 a.m. today. Dr. Jones spoke first. The vote was 51 to 49.\n\n"
    "Café society, naïve résumés and piñatas: e\xCC\x81 (e + combining acute) stays whole. "
    "Families \xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7 and "
    "flags \xF0\x9F\x87\xAB\xF0\x9F\x87\xB7 too.\n\n"
    "中文句子在这里。第二句话！第三句话？日本語の文です。\n\n"
    "هل هذا سؤال؟ نعم هذا جواب۔ انتهى.\n";

const char* kMarkdown =
    "# Guide\n\nIntro paragraph for the guide.\n\n"
    "## Install\n\nRun the bootstrap script first.\n\n"
    "```sh\n./scripts/bootstrap.sh\nmake build\n```\n\n"
    "### Debian\n\n- apt-get update\n- apt-get install cmake\n  (needs root)\n- done\n\n"
    "| package | why |\n|---|---|\n| cmake | build |\n| ninja | fast |\n\n"
    "## Use\n\nStart the gateway and send requests.\n";

Document doc(std::string text, std::string source = "doc.txt") {
    Document d;
    d.id = "doc-1";
    d.source = std::move(source);
    d.text = std::move(text);
    d.metadata = {{"lang", "mixed"}, {"team", "rag"}};
    return d;
}

ChunkSize chars(size_t size, size_t overlap = 0) {
    return ChunkSize{size, overlap, SizeUnit::kCharacters, nullptr};
}

std::vector<Chunk> split_ok(const Chunker& chunker, const Document& d) {
    auto result = chunker.split(d);
    EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message);
    return result.ok() ? std::move(result).value() : std::vector<Chunk>{};
}

std::vector<std::string> texts(const std::vector<Chunk>& chunks) {
    std::vector<std::string> out;
    for (const Chunk& c : chunks)
        out.push_back(c.text);
    return out;
}

// What every chunk of every chunker keeps.
// The recursive splitter cuts between code points, as LangChain does (graphemes = false).
void expect_invariants(const Document& d, const std::vector<Chunk>& chunks, bool graphemes = true) {
    for (size_t i = 0; i < chunks.size(); ++i) {
        const Chunk& c = chunks[i];
        SCOPED_TRACE("chunk " + std::to_string(i) + ": " + c.text);
        EXPECT_EQ(c.index, i);
        EXPECT_EQ(c.document_id, d.id);
        EXPECT_EQ(c.source, d.source);
        EXPECT_EQ(c.metadata, d.metadata);
        ASSERT_LE(c.byte_end, d.text.size());
        ASSERT_LT(c.byte_begin, c.byte_end);
        EXPECT_EQ(c.text, d.text.substr(c.byte_begin, c.byte_end - c.byte_begin));
        EXPECT_EQ(first_invalid_utf8(c.text), c.text.size());
        EXPECT_EQ(c.char_begin,
                  count_code_points(std::string_view(d.text).substr(0, c.byte_begin)));
        EXPECT_EQ(c.char_end - c.char_begin, count_code_points(c.text));
        EXPECT_EQ(c.n_chars, count_code_points(c.text));
        if (graphemes) {
            EXPECT_TRUE(is_grapheme_boundary(d.text, c.byte_begin));
            EXPECT_TRUE(is_grapheme_boundary(d.text, c.byte_end));
        }
    }
}

std::vector<std::unique_ptr<Chunker>> all_chunkers(ChunkSize size, const Embedder* embedder) {
    std::vector<std::unique_ptr<Chunker>> out;
    for (ChunkStrategy s :
         {ChunkStrategy::kCharacter, ChunkStrategy::kSentence, ChunkStrategy::kParagraph,
          ChunkStrategy::kRecursive, ChunkStrategy::kStructural, ChunkStrategy::kSemantic,
          ChunkStrategy::kSlidingWindow}) {
        ChunkerConfig config;
        config.strategy = s;
        config.size = size;
        config.embedder = embedder;
        auto made = make_chunker(config);
        EXPECT_TRUE(made.ok()) << to_string(s);
        if (made.ok()) out.push_back(std::move(made).value());
    }
    return out;
}

// A deterministic embedder: a sentence's vector counts topic words (animals, money,
// weather) plus a small constant so no vector is zero; unit length.
class TopicEmbedder final : public Embedder {
public:
    std::string_view name() const override { return "fake-topics"; }
    size_t dimension() const override { return 4; }
    std::string embed(std::span<const std::string_view> texts, EmbeddingBatch& out) const override {
        ++calls;
        if (fail) return "upstream said no";
        out = EmbeddingBatch(texts.size(), 4);
        static const std::vector<std::vector<std::string>> kTopics = {
            {"cat", "dog", "bird", "horse"},
            {"stock", "price", "bank", "money"},
            {"rain", "sun", "wind", "storm"}};
        for (size_t i = 0; i < texts.size(); ++i) {
            auto row = out.row(i);
            for (size_t t = 0; t < kTopics.size(); ++t) {
                for (const std::string& w : kTopics[t]) {
                    for (size_t at = texts[i].find(w); at != std::string_view::npos;
                         at = texts[i].find(w, at + 1)) {
                        row[t] += 1;
                    }
                }
            }
            row[3] = 0.1f;
            float norm = 0;
            for (float x : row)
                norm += x * x;
            for (float& x : row)
                x /= std::sqrt(norm);
        }
        return {};
    }
    mutable int calls = 0;
    bool fail = false;
};

const tokens::Tokenizer* cl100k() {
    static tokens::TokenizerRegistry registry(tokens::default_vocab_dir());
    auto got = registry.get("cl100k_base");
    if (auto* error = std::get_if<std::string>(&got)) {
        ADD_FAILURE() << *error;
        return nullptr;
    }
    return std::get<0>(got);
}

TEST(Chunking, EveryChunkerKeepsTheInvariants) {
    TopicEmbedder embedder;
    for (const char* text : {kProse, kMarkdown}) {
        for (ChunkSize size : {chars(40, 10), chars(120, 0), chars(7, 3), chars(1000, 100)}) {
            for (const auto& chunker : all_chunkers(size, &embedder)) {
                SCOPED_TRACE(std::string(chunker->name()) + " size " + std::to_string(size.size));
                const Document d = doc(text, "notes.md");
                const std::vector<Chunk> chunks = split_ok(*chunker, d);
                EXPECT_FALSE(chunks.empty());
                expect_invariants(d, chunks);
                if (chunker->name() == "semantic") continue;
                for (const Chunk& c : chunks) {
                    // Over the size only when one grapheme is (none is here) or, for the
                    // recursive splitter, never in this corpus.
                    EXPECT_LE(c.n_chars, size.size) << chunker->name() << ": " << c.text;
                }
            }
        }
    }
}

TEST(Chunking, EmptyAndWhitespaceDocumentsGiveNoChunks) {
    TopicEmbedder embedder;
    for (const char* text : {"", " ", "\n\n\t  \n", "\xE3\x80\x80"}) {
        for (const auto& chunker : all_chunkers(chars(10, 2), &embedder)) {
            EXPECT_TRUE(split_ok(*chunker, doc(text)).empty())
                << chunker->name() << " on '" << text << "'";
        }
    }
    EXPECT_EQ(embedder.calls, 0);
}

// The vectorised paths (32, 16 and 8 bytes at a time) agree with a byte-by-byte reading on
// long texts: the first invalid byte wherever it falls, and the code-point count.
TEST(Chunking, LongTextsFindTheInvalidByteAndCountCodePoints) {
    for (size_t at : {0, 15, 16, 31, 32, 33, 47, 63, 64, 100, 200}) {
        std::string text(260, 'a');
        text.replace(5, 2, "\xC3\xA9");  // a valid two-byte "é" before it
        text.replace(at < 5 ? 8 : at, 2, "\xC3\x28");
        EXPECT_EQ(first_invalid_utf8(text), at < 5 ? 8 : at) << "at " << at;
    }
    const std::string units[] = {"a", " ", "\n", "\xC3\xA9", "\xE2\x80\x94", "\xF0\x9F\x98\x80"};
    std::mt19937 rng(3);
    for (size_t length = 0; length < 400; length += 7) {
        std::string text;
        size_t code_points = 0;
        while (text.size() < length) {
            text += units[rng() % std::size(units)];
            ++code_points;
        }
        EXPECT_EQ(count_code_points(text), code_points) << text.size() << " bytes";
        EXPECT_EQ(first_invalid_utf8(text), text.size());
    }
}

TEST(Chunking, InvalidUtf8IsAnErrorValueNamingTheByte) {
    TopicEmbedder embedder;
    const std::string bad = std::string("good text ") + "\xC3\x28" + " more";
    for (const auto& chunker : all_chunkers(chars(10, 2), &embedder)) {
        auto result = chunker->split(doc(bad));
        ASSERT_FALSE(result.ok()) << chunker->name();
        EXPECT_EQ(result.error().kind, ErrorKind::kInvalidRequest);
        EXPECT_EQ(result.error().code, "invalid_utf8");
        EXPECT_NE(result.error().message.find("offset 10"), std::string::npos);
    }
    EXPECT_EQ(first_invalid_utf8("\xED\xA0\x80"), 0u);      // a surrogate
    EXPECT_EQ(first_invalid_utf8("ab\xC0\xAF"), 2u);        // overlong
    EXPECT_EQ(first_invalid_utf8("\xF4\x90\x80\x80"), 0u);  // past U+10FFFF
    EXPECT_EQ(first_invalid_utf8("caf\xC3\xA9"), 5u);
    const std::string clean = sanitize_utf8(bad);
    EXPECT_EQ(clean, "good text \xEF\xBF\xBD( more");
    auto chunker = CharacterChunker(chars(4));
    const Document d = doc(clean);
    expect_invariants(d, split_ok(chunker, d));
}

TEST(Chunking, BadSizesAreErrorsFromTheFactoryAndThrowFromConstructors) {
    ChunkerConfig config;
    config.size = chars(0);
    auto zero = make_chunker(config);
    ASSERT_FALSE(zero.ok());
    EXPECT_EQ(zero.error().param, "chunk_size");
    config.size = chars(10, 10);
    auto overlap = make_chunker(config);
    ASSERT_FALSE(overlap.ok());
    EXPECT_EQ(overlap.error().param, "chunk_overlap");
    config.size = ChunkSize{10, 0, SizeUnit::kTokens, nullptr};
    EXPECT_FALSE(make_chunker(config).ok());
    config.strategy = ChunkStrategy::kSemantic;
    config.size = chars(0);
    EXPECT_EQ(make_chunker(config).error().param, "embedder");
    EXPECT_FALSE(parse_chunk_strategy("words").has_value());
    EXPECT_EQ(parse_chunk_strategy("sliding-window"), ChunkStrategy::kSlidingWindow);
    EXPECT_THROW(CharacterChunker(chars(0)), std::invalid_argument);
    EXPECT_THROW(RecursiveChunker(chars(5, 7)), std::invalid_argument);
}

TEST(CharacterChunker, FixedSizeNeverSplittingGraphemes) {
    const std::string family =
        "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7";  // 5 cps
    const Document d = doc("ab" + family + "cde\xCC\x81" + "fg");
    CharacterChunker chunker(chars(3));
    const auto chunks = split_ok(chunker, d);
    expect_invariants(d, chunks);
    EXPECT_EQ(texts(chunks), (std::vector<std::string>{"ab", family, "cd",
                                                       "e\xCC\x81"
                                                       "f",
                                                       "g"}));
    std::string joined;
    for (const Chunk& c : chunks)
        joined += c.text;
    EXPECT_EQ(joined, d.text);
}

TEST(CharacterChunker, OverlapRepeatsTheEndOfThePreviousChunk) {
    CharacterChunker chunker(chars(4, 2));
    EXPECT_EQ(texts(split_ok(chunker, doc("abcdefghij"))),
              (std::vector<std::string>{"abcd", "cdef", "efgh", "ghij"}));
}

TEST(Sentences, AbbreviationsDecimalsQuotesCjkArabic) {
    auto sentences = [](std::string_view text) {
        std::vector<std::string> out;
        for (TextSpan s : split_sentences(text, {0, text.size()})) {
            s = trim(text, s);
            out.emplace_back(text.substr(s.begin, s.size()));
        }
        return out;
    };
    EXPECT_EQ(sentences("Mr. Smith paid $3.14 today. Dr. Jones did not."),
              (std::vector<std::string>{"Mr. Smith paid $3.14 today.", "Dr. Jones did not."}));
    EXPECT_EQ(sentences("Use tools, e.g. a hammer. The U.S. Army came. J. R. R. Tolkien wrote."),
              (std::vector<std::string>{"Use tools, e.g. a hammer.", "The U.S. Army came.",
                                        "J. R. R. Tolkien wrote."}));
    EXPECT_EQ(sentences("\"Is it?\" she asked. \"Yes.\" He left!  Then... nothing."),
              (std::vector<std::string>{"\"Is it?\" she asked.", "\"Yes.\"", "He left!",
                                        "Then... nothing."}));
    EXPECT_EQ(sentences("中文句子。第二句！第三句？好"),
              (std::vector<std::string>{"中文句子。", "第二句！", "第三句？", "好"}));
    EXPECT_EQ(sentences("هل هذا سؤال؟ نعم۔ انتهى"),
              (std::vector<std::string>{"هل هذا سؤال؟", "نعم۔", "انتهى"}));
    EXPECT_EQ(sentences("Version 2.0 is out. It costs 1,000.50 dollars."),
              (std::vector<std::string>{"Version 2.0 is out.", "It costs 1,000.50 dollars."}));
    EXPECT_EQ(sentences("A heading\n\nA paragraph without a period"),
              (std::vector<std::string>{"A heading", "A paragraph without a period"}));
}

TEST(SentenceChunker, PacksWholeSentencesWithOverlap) {
    SentenceChunker chunker(chars(40, 15));
    const Document d = doc("One short. Two short. Three is longer here. Four.");
    const auto chunks = split_ok(chunker, d);
    expect_invariants(d, chunks);
    EXPECT_EQ(texts(chunks), (std::vector<std::string>{"One short. Two short.",
                                                       "Two short. Three is longer here. Four."}));
}

TEST(ParagraphChunker, PacksParagraphsAndSplitsLongOnesBySentence) {
    ParagraphChunker chunker(chars(30));
    const Document d = doc("First para.\n\nSecond para.\n\nA third paragraph. It is too long.\n");
    const auto chunks = split_ok(chunker, d);
    expect_invariants(d, chunks);
    EXPECT_EQ(texts(chunks), (std::vector<std::string>{"First para.\n\nSecond para.",
                                                       "A third paragraph.", "It is too long."}));
}

TEST(RecursiveChunker, MatchesLangChainOnAKnownCase) {
    // From LangChain's own test suite (RecursiveCharacterTextSplitter, size 10, overlap 1).
    RecursiveChunker chunker(chars(10, 1));
    const Document d =
        doc("Hi.\n\nI'm Harrison.\n\nHow? Are? You?\nOkay then f f f f.\nThis is a weird "
            "text to write, but gotta test the splittingggg some how.\n\n"
            "Bye!\n\n-H.");
    EXPECT_EQ(texts(split_ok(chunker, d)),
              (std::vector<std::string>{"Hi.", "I'm", "Harrison.", "How? Are?", "You?", "Okay then",
                                        "f f f f.", "This is a", "weird", "text to", "write,",
                                        "but gotta", "test the", "splitting", "gggg", "some how.",
                                        "Bye!", "-H."}));
}

// Heading paths come from ATX headings at a line start (after at most three spaces) outside
// fences; a '#' anywhere else does not start one.
TEST(HeadingIndex, OnlyHeadingsAtALineStartOutsideFences) {
    const std::string text =
        "# Top\n\nIntro with a # in it, issue #5.\n\n    # indented four: code, not a heading\n\n"
        "   ## Sub ##\n\nBody under sub.\n\n~~~\n# inside a fence\n~~~\n\nAfter the fence.\n\n"
        "#hashtag is not a heading\n\nLast words.\n";
    const HeadingIndex index(text);
    using Path = std::vector<std::string>;
    EXPECT_EQ(index.path_at(text.find("Intro")), Path{"Top"});
    EXPECT_EQ(index.path_at(text.find("indented four")), Path{"Top"});
    EXPECT_EQ(index.path_at(text.find("Body under")), (Path{"Top", "Sub"}));
    EXPECT_EQ(index.path_at(text.find("After the fence")), (Path{"Top", "Sub"}));
    EXPECT_EQ(index.path_at(text.find("Last words")), (Path{"Top", "Sub"}));
    EXPECT_EQ(index.path_at(0), Path{"Top"});
}

TEST(StructuralChunker, MarkdownBlocksStayWholeAndCarryHeadingPaths) {
    StructuralChunker chunker(chars(120));
    const Document d = doc(kMarkdown, "guide.md");
    const auto chunks = split_ok(chunker, d);
    expect_invariants(d, chunks);
    bool saw_fence = false;
    bool saw_table = false;
    bool saw_list = false;
    for (const Chunk& c : chunks) {
        if (c.text.find("```sh") != std::string::npos) {
            saw_fence = true;
            EXPECT_NE(c.text.find("make build\n```"), std::string::npos) << c.text;
            EXPECT_EQ(c.heading_path, (std::vector<std::string>{"Guide", "Install"}));
        }
        if (c.text.find("| package") != std::string::npos) {
            saw_table = true;
            EXPECT_NE(c.text.find("| ninja | fast |"), std::string::npos) << c.text;
            EXPECT_EQ(c.heading_path, (std::vector<std::string>{"Guide", "Install", "Debian"}));
        }
        if (c.text.find("- apt-get update") != std::string::npos) {
            saw_list = true;
            EXPECT_NE(c.text.find("- done"), std::string::npos) << c.text;
        }
        if (c.text.find("Start the gateway") != std::string::npos) {
            EXPECT_EQ(c.heading_path, (std::vector<std::string>{"Guide", "Use"}));
            EXPECT_TRUE(c.text.starts_with("## Use")) << c.text;
        }
    }
    EXPECT_TRUE(saw_fence && saw_table && saw_list);
}

TEST(StructuralChunker, SourceCodeSplitsAtFunctionBoundaries) {
    const std::string code =
        "#include <cstdio>\n\nint add(int a, int b) {\n    return a + b;\n}\n"
        "int sub(int a, int b) {\n    return a - b;\n}\n\n"
        "int main() {\n    std::printf(\"%d\\n\", add(1, 2));\n\n    return sub(3, 4);\n}\n";
    StructuralChunker chunker(chars(60));
    const Document d = doc(code, "src/math.cpp");
    const auto chunks = split_ok(chunker, d);
    expect_invariants(d, chunks);
    ASSERT_GE(chunks.size(), 3u);
    for (const Chunk& c : chunks) {
        EXPECT_TRUE(c.heading_path.empty());  // "#include" is not a heading in code
    }
    EXPECT_EQ(chunks[1].text, "int add(int a, int b) {\n    return a + b;\n}");
    EXPECT_EQ(chunks[2].text, "int sub(int a, int b) {\n    return a - b;\n}");
}

TEST(SemanticChunker, SplitsWhereTheTopicChanges) {
    TopicEmbedder embedder;
    SemanticOptions options;
    options.buffer_size = 0;
    options.breakpoint = Breakpoint::kPercentile;
    options.amount = 50;
    SemanticChunker chunker(embedder, options);
    const Document d =
        doc("The cat sat. A dog barked at the cat. The bird sang. "
            "The stock price fell. The bank lost money. "
            "Then rain came. A storm and wind followed.");
    const auto chunks = split_ok(chunker, d);
    expect_invariants(d, chunks);
    EXPECT_EQ(texts(chunks),
              (std::vector<std::string>{"The cat sat. A dog barked at the cat. The bird sang.",
                                        "The stock price fell. The bank lost money.",
                                        "Then rain came. A storm and wind followed."}));
    options.breakpoint = Breakpoint::kStandardDeviation;
    options.amount = 0.5;
    SemanticChunker by_stddev(embedder, options);
    EXPECT_EQ(split_ok(by_stddev, d).size(), 3u);
}

TEST(SemanticChunker, EmbedderFailureIsAnErrorAndMaxSizeRepacks) {
    TopicEmbedder embedder;
    embedder.fail = true;
    SemanticChunker failing(embedder);
    auto result = failing.split(doc("One sentence about cats. Another about money."));
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().kind, ErrorKind::kUpstream);
    EXPECT_NE(result.error().message.find("upstream said no"), std::string::npos);

    TopicEmbedder ok_embedder;
    SemanticOptions options;
    options.max_size = chars(30);
    SemanticChunker bounded(ok_embedder, options);
    const Document d = doc("The cat sat on the mat. The dog sat on the cat. The bird sat too.");
    for (const Chunk& c : split_ok(bounded, d))
        EXPECT_LE(c.n_chars, 30u) << c.text;
}

TEST(SlidingWindowChunker, WindowsOverWordsShareTheirEdges) {
    SlidingWindowChunker chunker(chars(16, 6));
    const Document d = doc("one two three four five six seven eight");
    const auto chunks = split_ok(chunker, d);
    expect_invariants(d, chunks);
    EXPECT_EQ(texts(chunks), (std::vector<std::string>{"one two three", "three four five",
                                                       "five six seven", "seven eight"}));
}

TEST(Chunking, TokenSizesUseTheModelsTokenizer) {
    const tokens::Tokenizer* tokenizer = cl100k();
    ASSERT_NE(tokenizer, nullptr);
    const ChunkSize size{24, 6, SizeUnit::kTokens, tokenizer};
    TopicEmbedder embedder;
    const Document d = doc(std::string(kProse) + kMarkdown, "all.md");
    for (const auto& chunker : all_chunkers(size, &embedder)) {
        SCOPED_TRACE(chunker->name());
        const auto chunks = split_ok(*chunker, d);
        expect_invariants(d, chunks);
        for (const Chunk& c : chunks) {
            EXPECT_EQ(c.n_tokens, tokenizer->count(c.text));
            if (chunker->name() != "semantic") {
                EXPECT_LE(c.n_tokens, 24u) << c.text;
            }
        }
    }
}

TEST(Chunking, EnormousSingleLineIsCutToSize) {
    std::string line;
    for (int i = 0; i < 200000; ++i)
        line += "x\xC3\xA9";  // 400k code points, no space
    TopicEmbedder embedder;
    for (const auto& chunker : all_chunkers(chars(1000, 100), &embedder)) {
        if (chunker->name() == "semantic") continue;  // one sentence: one chunk
        SCOPED_TRACE(chunker->name());
        const Document d = doc(line);
        const auto chunks = split_ok(*chunker, d);
        ASSERT_GE(chunks.size(), 400u);
        for (const Chunk& c : chunks) {
            ASSERT_LE(c.n_chars, 1000u);
            ASSERT_EQ(first_invalid_utf8(c.text), c.text.size());
        }
    }
}

TEST(Chunking, SeededRandomTextsKeepTheInvariants) {
    // Pieces that stress boundaries: combining marks, ZWJ emoji, flags, CJK, Arabic, CRLF,
    // Unicode spaces, Markdown structure, abbreviations and decimals.
    const std::vector<std::string> pieces = {"word",
                                             " ",
                                             "  ",
                                             "\n",
                                             "\n\n",
                                             "\r\n",
                                             ". ",
                                             "? ",
                                             "Mr. ",
                                             "3.14",
                                             "e\xCC\x81",
                                             "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9",
                                             "\xF0\x9F\x87\xAB\xF0\x9F\x87\xB7",
                                             "\xE4\xB8\xAD\xE6\x96\x87",
                                             "\xE3\x80\x82",
                                             "\xD8\x9F ",
                                             "\xE3\x80\x80",
                                             "\t",
                                             "# Title\n",
                                             "## Sub\n",
                                             "```\ncode\n```\n",
                                             "- item\n",
                                             "| a | b |\n",
                                             "\"q.\" "};
    uint64_t state = 20261125;
    auto next = [&](uint64_t n) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        return (state >> 33) % n;
    };
    const tokens::Tokenizer* tokenizer = cl100k();
    TopicEmbedder embedder;
    for (int round = 0; round < 60; ++round) {
        std::string text;
        const size_t n = 1 + next(round % 10 == 0 ? 400 : 60);
        for (size_t i = 0; i < n; ++i)
            text += pieces[next(pieces.size())];
        const size_t size = 1 + next(80);
        ChunkSize chunk_size = chars(size, next(size));
        if (round % 3 == 1) chunk_size.unit = SizeUnit::kUtf16;
        if (round % 3 == 2 && tokenizer != nullptr) {
            chunk_size.unit = SizeUnit::kTokens;
            chunk_size.tokenizer = tokenizer;
        }
        const Document d = doc(text, round % 2 == 0 ? "r.md" : "r.txt");
        for (const auto& chunker : all_chunkers(chunk_size, &embedder)) {
            SCOPED_TRACE(std::string(chunker->name()) + " round " + std::to_string(round));
            expect_invariants(d, split_ok(*chunker, d), chunker->name() != "recursive");
        }
    }
}

TEST(Chunking, Utf16UnitsCountAstralCharactersTwice) {
    EXPECT_EQ(count_utf16_units("a\xF0\x9F\x98\x80"), 3u);
    RecursiveChunker chunker(ChunkSize{4, 0, SizeUnit::kUtf16, nullptr});
    EXPECT_EQ(texts(split_ok(chunker, doc("\xF0\x9F\x98\x80\xF0\x9F\x98\x80 ab"))),
              (std::vector<std::string>{"\xF0\x9F\x98\x80\xF0\x9F\x98\x80", "ab"}));
}

}  // namespace
}  // namespace switchyard::rag
