#include "switchyard/rag/chunking/structural_chunker.hpp"

#include "switchyard/rag/chunking/paragraph_chunker.hpp"

namespace switchyard::rag {

namespace {

struct Line {
    size_t begin;
    size_t end;             // after the '\n' (or the end of the text)
    std::string_view body;  // without the '\n' and leading spaces (up to 3)
    size_t indent;
    bool blank;
};

std::vector<Line> lines_of(std::string_view text) {
    std::vector<Line> lines;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t eol = text.find('\n', pos);
        const size_t end = eol == std::string_view::npos ? text.size() : eol + 1;
        if (eol == std::string_view::npos) eol = text.size();
        std::string_view line = text.substr(pos, eol - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        size_t indent = 0;
        while (indent < line.size() && (line[indent] == ' ' || line[indent] == '\t'))
            ++indent;
        lines.push_back({pos, end, line.substr(indent), indent, indent == line.size()});
        pos = end;
    }
    return lines;
}

bool is_fence(const Line& l) {
    return l.indent < 4 && (l.body.starts_with("```") || l.body.starts_with("~~~"));
}

bool is_heading(const Line& l) {
    if (l.indent >= 4 || !l.body.starts_with('#')) return false;
    size_t level = 0;
    while (level < l.body.size() && l.body[level] == '#')
        ++level;
    return level <= 6 && (level == l.body.size() || l.body[level] == ' ' || l.body[level] == '\t');
}

bool is_list_item(const Line& l) {
    const std::string_view b = l.body;
    if (b.size() >= 2 && (b[0] == '-' || b[0] == '*' || b[0] == '+') && b[1] == ' ') return true;
    size_t digits = 0;
    while (digits < b.size() && digits < 9 && b[digits] >= '0' && b[digits] <= '9')
        ++digits;
    return digits > 0 && digits + 1 < b.size() && (b[digits] == '.' || b[digits] == ')') &&
           b[digits + 1] == ' ';
}

bool is_table_row(const Line& l) {
    return l.indent < 4 && l.body.starts_with('|');
}

// Advances `i` past blank lines, extending the block to cover them.
void absorb_blank(const std::vector<Line>& lines, size_t& i) {
    while (i < lines.size() && lines[i].blank)
        ++i;
}

}  // namespace

std::vector<Block> markdown_blocks(std::string_view text) {
    const std::vector<Line> lines = lines_of(text);
    std::vector<Block> blocks;
    size_t i = 0;
    // Blank lines before the first block belong to it.
    size_t block_begin = 0;
    absorb_blank(lines, i);
    while (i < lines.size()) {
        const Line& first = lines[i];
        BlockKind kind = BlockKind::kParagraph;
        if (is_fence(first)) {
            kind = BlockKind::kFence;
            const std::string_view marker = first.body.substr(0, 3);
            ++i;
            while (i < lines.size() && !(is_fence(lines[i]) && lines[i].body.starts_with(marker))) {
                ++i;
            }
            if (i < lines.size()) ++i;  // the closing fence
        } else if (is_heading(first)) {
            kind = BlockKind::kHeading;
            ++i;
        } else if (is_table_row(first)) {
            kind = BlockKind::kTable;
            while (i < lines.size() && is_table_row(lines[i]))
                ++i;
        } else if (is_list_item(first)) {
            kind = BlockKind::kList;
            ++i;
            while (i < lines.size()) {
                const Line& l = lines[i];
                if (l.blank) {
                    // A list goes on past blank lines when an item or an indented line follows.
                    size_t j = i;
                    while (j < lines.size() && lines[j].blank)
                        ++j;
                    if (j < lines.size() && (is_list_item(lines[j]) || lines[j].indent >= 2)) {
                        i = j;
                        continue;
                    }
                    break;
                }
                if (is_fence(l) || is_heading(l) || is_table_row(l)) break;
                ++i;  // an item, a continuation or a lazy paragraph line
            }
        } else {
            ++i;
            while (i < lines.size() && !lines[i].blank && !is_fence(lines[i]) &&
                   !is_heading(lines[i]) && !is_table_row(lines[i]) &&
                   !(is_list_item(lines[i]) && lines[i].indent < 4)) {
                ++i;
            }
        }
        absorb_blank(lines, i);
        const size_t block_end = i < lines.size() ? lines[i].begin : text.size();
        blocks.push_back({kind, {block_begin, block_end}});
        block_begin = block_end;
    }
    if (blocks.empty() && !text.empty())
        blocks.push_back({BlockKind::kParagraph, {0, text.size()}});
    return blocks;
}

std::vector<Block> code_blocks(std::string_view text) {
    const std::vector<Line> lines = lines_of(text);
    std::vector<Block> blocks;
    size_t block_begin = 0;
    size_t i = 0;
    absorb_blank(lines, i);
    while (i < lines.size()) {
        ++i;
        while (i < lines.size() && !lines[i].blank) {
            const Line& prev = lines[i - 1];
            const bool closes = prev.indent == 0 && (prev.body == "}" || prev.body == "};" ||
                                                     prev.body == "end" || prev.body == "})");
            if (closes && lines[i].indent == 0) break;  // a new top-level definition
            ++i;
        }
        absorb_blank(lines, i);
        const size_t block_end = i < lines.size() ? lines[i].begin : text.size();
        blocks.push_back({BlockKind::kCode, {block_begin, block_end}});
        block_begin = block_end;
    }
    return blocks;
}

namespace {

std::string_view language_of(std::string_view source) {
    const size_t dot = source.find_last_of('.');
    if (dot == std::string_view::npos) return {};
    const std::string_view ext = source.substr(dot + 1);
    if (ext == "py") return "python";
    if (ext == "go") return "go";
    if (ext == "rs") return "rust";
    if (ext == "java") return "java";
    if (ext == "js" || ext == "mjs" || ext == "cjs" || ext == "ts" || ext == "tsx" ||
        ext == "jsx") {
        return "js";
    }
    if (ext == "c" || ext == "h" || ext == "cc" || ext == "cpp" || ext == "cxx" || ext == "hpp" ||
        ext == "hh" || ext == "hxx") {
        return "cpp";
    }
    return {};
}

bool is_markdown_source(std::string_view source) {
    return source.ends_with(".md") || source.ends_with(".markdown") || source.ends_with(".mdx");
}

}  // namespace

StructuralChunker::StructuralChunker(ChunkSize size, TextFormat format)
    : size_(size),
      sizer_(size),
      format_(format),
      prose_splitter_(size, default_separators(), true) {}

void StructuralChunker::pack_section(std::string_view text, const std::vector<TextSpan>& blocks,
                                     const RecursiveChunker& splitter,
                                     std::vector<TextSpan>& out) const {
    // Runs of blocks that fit are packed; a block too large on its own is split by the
    // recursive splitter and its pieces stand alone (they are already packed to the size).
    std::vector<TextSpan> run;
    auto flush = [&] {
        for (const TextSpan& span : pack_units(text, run, sizer_))
            out.push_back(span);
        run.clear();
    };
    for (const TextSpan& block : blocks) {
        if (sizer_.measure(text.substr(block.begin, block.size())) <= size_.size) {
            run.push_back(block);
            continue;
        }
        flush();
        std::vector<TextSpan> pieces;
        splitter.split_span(text, block, pieces);
        for (const TextSpan& piece : pieces) {
            const TextSpan trimmed = trim(text, piece);
            if (trimmed.size() > 0) out.push_back(trimmed);
        }
    }
    flush();
}

Result<std::vector<Chunk>> StructuralChunker::split(const Document& document) const {
    if (Status ok = check_utf8(document); !ok) return ok.error();
    const std::string_view text = document.text;
    TextFormat format = format_;
    if (format == TextFormat::kAuto) {
        format = is_markdown_source(document.source) ? TextFormat::kMarkdown
                 : is_code_source(document.source)   ? TextFormat::kCode
                                                     : TextFormat::kPlain;
    }
    std::vector<TextSpan> spans;
    if (format == TextFormat::kMarkdown) {
        // Sections: a heading starts one, unless the current one holds only headings.
        std::vector<TextSpan> section;
        bool has_content = false;
        for (const Block& block : markdown_blocks(text)) {
            if (block.kind == BlockKind::kHeading && has_content) {
                pack_section(text, section, prose_splitter_, spans);
                section.clear();
                has_content = false;
            }
            section.push_back(block.span);
            has_content = has_content || block.kind != BlockKind::kHeading;
        }
        if (!section.empty()) pack_section(text, section, prose_splitter_, spans);
    } else if (format == TextFormat::kCode) {
        std::vector<std::string> separators = separators_for_language(language_of(document.source));
        if (separators.empty()) separators = default_separators();
        const RecursiveChunker code_splitter(size_, std::move(separators), true);
        std::vector<TextSpan> blocks;
        for (const Block& block : code_blocks(text))
            blocks.push_back(block.span);
        pack_section(text, blocks, code_splitter, spans);
    } else {
        pack_section(text, split_paragraphs(text, {0, text.size()}), prose_splitter_, spans);
    }
    ChunkEmitter emitter(document, size_);
    for (const TextSpan& span : spans)
        emitter.emit(span);
    return emitter.take();
}

}  // namespace switchyard::rag
