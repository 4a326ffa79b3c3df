#include "switchyard/rag/html_text.hpp"

#include <array>
#include <cctype>
#include <cstdint>
#include <utility>

namespace switchyard::rag {

namespace {

bool starts_with_lower(std::string_view text, size_t at, std::string_view word) {
    if (at > text.size() || text.size() - at < word.size()) return false;
    for (size_t i = 0; i < word.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(text[at + i])) != word[i]) return false;
    }
    return true;
}

void append_utf8(std::string& out, uint32_t cp) {
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// Decodes the entity at html[i] ('&') into out; returns its length, or 0 if it is none.
size_t decode_entity(std::string_view html, size_t i, std::string& out) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 10> kNamed = {{
        {"&amp;", "&"},
        {"&lt;", "<"},
        {"&gt;", ">"},
        {"&quot;", "\""},
        {"&apos;", "'"},
        {"&nbsp;", " "},
        {"&mdash;", "\u2014"},
        {"&ndash;", "\u2013"},
        {"&hellip;", "\u2026"},
        {"&copy;", "\u00a9"},
    }};
    for (const auto& [entity, text] : kNamed) {
        if (html.substr(i, entity.size()) == entity) {
            out += text;
            return entity.size();
        }
    }
    // &#NNN; and &#xHHHH;
    if (i + 2 < html.size() && html[i + 1] == '#') {
        size_t j = i + 2;
        const bool hex = j < html.size() && (html[j] == 'x' || html[j] == 'X');
        if (hex) ++j;
        uint32_t cp = 0;
        size_t digits = 0;
        while (j < html.size() && digits < 8) {
            const char c = html[j];
            int d = -1;
            if (c >= '0' && c <= '9') d = c - '0';
            if (hex && c >= 'a' && c <= 'f') d = c - 'a' + 10;
            if (hex && c >= 'A' && c <= 'F') d = c - 'A' + 10;
            if (d < 0) break;
            cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(d);
            ++digits;
            ++j;
        }
        if (digits > 0 && j < html.size() && html[j] == ';') {
            append_utf8(out, cp);
            return j + 1 - i;
        }
    }
    return 0;
}

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

bool is_block_tag(std::string_view html, size_t name_at, std::string_view tag) {
    static constexpr std::array<std::string_view, 24> kBlocks = {
        "p",  "br", "div",     "li",      "tr",     "td",     "th",         "h1",
        "h2", "h3", "h4",      "h5",      "h6",     "pre",    "table",      "hr",
        "ul", "ol", "section", "article", "header", "footer", "blockquote", "dd"};
    const size_t slash = !tag.empty() && tag.front() == '/' ? 1 : 0;
    for (std::string_view block : kBlocks) {
        const size_t n = slash + block.size();
        if (tag.size() >= n && starts_with_lower(html, name_at + slash, block) &&
            (tag.size() == n || tag[n] == '/' || is_space(tag[n]))) {
            return true;
        }
    }
    return false;
}

// '<' starts markup only before a letter, '/', '!' or '?' (as in HTML): "a < b" is text.
bool starts_markup(std::string_view html, size_t i) {
    if (i + 1 >= html.size()) return false;
    const char c = html[i + 1];
    return std::isalpha(static_cast<unsigned char>(c)) || c == '/' || c == '!' || c == '?';
}

}  // namespace

std::string html_to_text(std::string_view html) {
    std::string out;
    out.reserve(html.size());
    size_t i = 0;
    while (i < html.size()) {
        const char c = html[i];
        if (c == '<' && starts_markup(html, i)) {
            if (html.substr(i, 4) == "<!--") {
                // From i + 2: "<!-->" and "<!--->" are empty comments.
                const size_t end = html.find("-->", i + 2);
                i = end == std::string_view::npos ? html.size() : end + 3;
                continue;
            }
            bool skipped = false;
            for (std::string_view skip : {"script", "style", "noscript", "template"}) {
                const size_t after = i + 1 + skip.size();
                if (starts_with_lower(html, i + 1, skip) &&
                    (after >= html.size() || html[after] == '>' || html[after] == '/' ||
                     is_space(html[after]))) {
                    // Everything up to the closing tag (or the end, if it never closes).
                    const std::string close = "</" + std::string(skip);
                    size_t end = after;
                    while (end < html.size() && !starts_with_lower(html, end, close))
                        ++end;
                    const size_t gt = html.find('>', end);
                    i = gt == std::string_view::npos ? html.size() : gt + 1;
                    skipped = true;
                    break;
                }
            }
            if (skipped) continue;
            const size_t end = html.find('>', i);
            const std::string_view tag =
                html.substr(i + 1, (end == std::string_view::npos ? html.size() : end) - i - 1);
            if (is_block_tag(html, i + 1, tag)) out += '\n';
            i = end == std::string_view::npos ? html.size() : end + 1;
            continue;
        }
        if (c == '&') {
            if (const size_t n = decode_entity(html, i, out); n > 0) {
                i += n;
                continue;
            }
        }
        out += c;
        ++i;
    }
    // Collapse runs of blank lines left by the tags.
    std::string collapsed;
    collapsed.reserve(out.size());
    size_t newlines = 0;
    for (char ch : out) {
        if (ch == '\n') {
            if (++newlines > 2) continue;
        } else if (ch != ' ' && ch != '\t' && ch != '\r') {
            newlines = 0;
        }
        collapsed += ch;
    }
    return collapsed;
}

bool is_html_name(std::string_view file_name) {
    auto ends_with_lower = [&](std::string_view ext) {
        return file_name.size() >= ext.size() &&
               starts_with_lower(file_name, file_name.size() - ext.size(), ext);
    };
    return ends_with_lower(".html") || ends_with_lower(".htm");
}

bool is_html_content_type(std::string_view content_type) {
    while (!content_type.empty() && content_type.front() == ' ')
        content_type.remove_prefix(1);
    const size_t semi = content_type.find(';');
    std::string_view type = content_type.substr(0, semi);
    while (!type.empty() && type.back() == ' ')
        type.remove_suffix(1);
    auto is = [&](std::string_view want) {
        return type.size() == want.size() && starts_with_lower(type, 0, want);
    };
    return is("text/html") || is("application/xhtml+xml");
}

}  // namespace switchyard::rag
