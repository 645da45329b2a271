#!/usr/bin/env python3
"""Generate a deterministic, realistic web-hosting tree to benchmark ``fim scan``.

The tree looks like a shared hosting server's ``/home``::

    OUTDIR/home/<customer>/public_html/            WordPress-like site per customer
        index.php  wp-config.php  .htaccess
        wp-admin/...  wp-includes/...               core PHP, JS, CSS
        wp-content/plugins/<plugin>/...             plugins, some with vendor/ trees
        wp-content/themes/<theme>/...               templates, assets
        wp-content/uploads/YYYY/MM/...              "images": valid JPEG/PNG/GIF headers, random bodies
    OUTDIR/home/<customer>/backups/...              a few multi-MB zip/sql/mp4 files

File sizes follow log-normal distributions (most files 1-50 KB, a handful of several MB).
Benign PHP is plausible code (classes, methods, arrays, templates) and deliberately contains
no request-driven code execution.

A configurable number of small, self-written webshell-like samples (one-liners such as
``@eval($_POST[...])``, a GIF header followed by PHP, an ``.htaccess`` mapping .jpg to PHP,
...) are planted in random customers' upload folders. Their paths (relative to OUTDIR) and
kinds are written to a manifest JSON *next to* the tree, outside it:
``OUTDIR.manifest.json`` unless ``--manifest`` says otherwise.

Everything comes from one seeded ``random.Random``: the same arguments give the same tree
(names, contents and timestamps). Standard library only, no network.

Usage::

    python benchmarks/gentree.py OUTDIR --files 20000 --seed 1 --planted 20
"""

from __future__ import annotations

import argparse
import calendar
import json
import math
import os
import random
import struct
import sys
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST_FORMAT = 1
KiB = 1024
MiB = 1024 * 1024


def _words(text: str) -> list[str]:
    return text.split()


WORDS = _words(
    "account admin ajax api archive asset attachment author block cache cart category checkout "
    "comment config content context controller cron dashboard data date debug editor email embed "
    "export feed field filter form gallery helper hook image import index item layout list loader "
    "locale media menu meta model module network notice option order page panel payment plugin "
    "post product profile query queue rating redirect render report request response rest role "
    "route schema search section session setting shipping shortcode sidebar sitemap slider social "
    "sort status style tag tax template term theme thumbnail token tool upload user util validator "
    "video view widget wizard zone"
)
NOUNS = _words(
    "beach sunset team office logo banner header hero product event concert wedding garden city "
    "portrait kitchen mountain river coffee book car bike flower dog cat holiday summer winter"
)
CUSTOMER_NAMES = _words(
    "alice bob carol dave erin frank grace heidi ivan judy karl laura mallory nina oscar peggy "
    "quentin rupert sybil trent ursula victor walter xena yusuf zoe"
)
PLUGIN_NAMES = _words(
    "contact-form forms-lite seo-tools cache-boost gallery-pro shop-core slider-revo backup-buddy "
    "security-guard analytics-lite newsletter events-calendar page-builder social-share "
    "membership translate-press smtp-mailer redirect-manager custom-fields image-optimizer"
)
THEME_NAMES = _words("twentyblue starter-pro astral kadence-lite oceanic flatsome-child minimal-x")
VENDORS = _words("guzzlehttp symfony monolog psr league composer firebase stripe phpmailer twig")


def camel(*words: str) -> str:
    return "".join(w[:1].upper() + w[1:] for w in words)


def lognormal_size(rng: random.Random, median: float, sigma: float, lo: int, hi: int) -> int:
    return int(min(hi, max(lo, rng.lognormvariate(math.log(median), sigma))))


# -- benign content -------------------------------------------------------------------------------


class ContentPools:
    """Pre-rendered code fragments, assembled per file: fast and still varied."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.php_methods = [self._php_method() for _ in range(400)]
        self.php_functions = [self._php_function() for _ in range(300)]
        self.php_arrays = [self._php_array() for _ in range(120)]
        self.php_templates = [self._php_template() for _ in range(150)]
        self.js_blocks = [self._js_block() for _ in range(300)]
        self.css_blocks = [self._css_block() for _ in range(300)]
        self.sql_rows = [self._sql_row(i) for i in range(2000)]

    def w(self) -> str:
        return self.rng.choice(WORDS)

    def _php_method(self) -> str:
        r, w = self.rng, self.w
        a, b, c = w(), w(), w()
        kind = r.randrange(7)
        if kind == 0:
            return (
                f"\t/**\n\t * Returns the {a} {b}, or the default when unset.\n\t *\n"
                f"\t * @param string $key     Option key.\n\t * @param mixed  $default Fallback.\n"
                f"\t * @return mixed\n\t */\n"
                f"\tpublic function get_{a}_{b}( $key, $default = null ) {{\n"
                f"\t\tif ( isset( $this->options[ $key ] ) ) {{\n\t\t\treturn $this->options[ $key ];\n\t\t"
                "}\n"
                f"\t\treturn apply_filters( '{a}_{b}_default', $default, $key );\n\t}}\n"
            )
        if kind == 1:
            return (
                f"\tpublic function render_{a}() {{\n\t\t$items = $this->get_{b}_items( {r.randint(3, 50)} "
                ");\n"
                f'\t\tob_start();\n\t\t?>\n\t\t<div class="{a}-{b}-wrap">\n\t\t\t<ul class="{c}-list">\n'
                f"\t\t\t<?php foreach ( $items as $item ) : ?>\n"
                "\t\t\t\t<li data-id=\"<?php echo (int) $item['id']; ?>\"><?php echo esc_html( "
                "$item['title'] ); ?></li>\n"
                f"\t\t\t<?php endforeach; ?>\n\t\t\t</ul>\n\t\t</div>\n\t\t<?php\n"
                f"\t\treturn ob_get_clean();\n\t}}\n"
            )
        if kind == 2:
            return (
                f"\tpublic function save_{a}( $post_id ) {{\n"
                f"\t\tif ( ! isset( $_POST['{a}_nonce'] ) || ! wp_verify_nonce( $_POST['{a}_nonce'], "
                f"'{a}_save' ) ) {{\n"
                f"\t\t\treturn;\n\t\t}}\n"
                f"\t\tif ( ! current_user_can( 'edit_post', $post_id ) ) {{\n\t\t\treturn;\n\t\t}}\n"
                f"\t\t$value = isset( $_POST['{a}_{b}'] ) ? sanitize_text_field( wp_unslash( "
                f"$_POST['{a}_{b}'] ) ) : '';\n"
                f"\t\tupdate_post_meta( $post_id, '_{a}_{b}', $value );\n\t}}\n"
            )
        if kind == 3:
            return (
                f"\tprotected function query_{a}( array $args = array() ) {{\n\t\tglobal $wpdb;\n"
                "\t\t$limit = isset( $args['limit'] ) ? absint( $args['limit'] ) : "
                f"{r.choice([10, 20, 50, 100])};\n"
                f'\t\t$sql = $wpdb->prepare(\n\t\t\t"SELECT ID, post_title FROM {{$wpdb->posts}} '
                f"WHERE post_type = %s AND post_status = 'publish' ORDER BY post_date DESC LIMIT %d\",\n"
                f"\t\t\t'{b}',\n\t\t\t$limit\n\t\t);\n"
                f"\t\t$rows = $wpdb->get_results( $sql, ARRAY_A );\n"
                f"\t\treturn is_array( $rows ) ? $rows : array();\n\t}}\n"
            )
        if kind == 4:
            return (
                f"\tprivate function normalize_{a}( $value ) {{\n"
                f"\t\tswitch ( gettype( $value ) ) {{\n\t\t\tcase 'array':\n"
                f"\t\t\t\treturn array_map( array( $this, 'normalize_{a}' ), $value );\n"
                f"\t\t\tcase 'string':\n\t\t\t\treturn trim( strtolower( $value ) );\n"
                f"\t\t\tcase 'integer':\n\t\t\t\treturn max( 0, $value );\n"
                f"\t\t\tdefault:\n\t\t\t\treturn $value;\n\t\t}}\n\t}}\n"
            )
        if kind == 5:
            return (
                f"\tpublic static function register_{a}() {{\n"
                f"\t\tadd_action( 'init', array( __CLASS__, 'init_{b}' ) );\n"
                f"\t\tadd_filter( 'the_content', array( __CLASS__, 'filter_{c}' ), {r.randint(1, 20)} );\n"
                f"\t\tadd_shortcode( '{a}_{b}', array( __CLASS__, 'shortcode_{c}' ) );\n"
                f"\t\tregister_rest_route( '{a}/v{r.randint(1, 3)}', '/{b}', array(\n"
                f"\t\t\t'methods'             => 'GET',\n"
                f"\t\t\t'callback'            => array( __CLASS__, 'rest_{c}' ),\n"
                f"\t\t\t'permission_callback' => '__return_true',\n\t\t) );\n\t}}\n"
            )
        return (
            f"\tpublic function to_{a}_array() {{\n\t\t$out = array();\n"
            f"\t\tforeach ( $this->{b}s as $key => $entry ) {{\n"
            f"\t\t\tif ( empty( $entry['{c}'] ) ) {{\n\t\t\t\tcontinue;\n\t\t\t}}\n"
            f"\t\t\t$out[ $key ] = array(\n\t\t\t\t'{c}'   => $entry['{c}'],\n"
            f"\t\t\t\t'label' => __( '{camel(a, b)}', '{c}' ),\n\t\t\t\t'order' => (int) "
            "$key,\n\t\t\t);\n\t\t}\n"
            f"\t\treturn $out;\n\t}}\n"
        )

    def _php_function(self) -> str:
        r, w = self.rng, self.w
        a, b = w(), w()
        pfx = r.choice(("wp", "theme", "plugin", "site", "my"))
        if r.random() < 0.5:
            return (
                f"if ( ! function_exists( '{pfx}_{a}_{b}' ) ) {{\n"
                f"\t/**\n\t * Prints the {a} {b} markup.\n\t */\n"
                f"\tfunction {pfx}_{a}_{b}( $post = null, $echo = true ) {{\n"
                f"\t\t$post = get_post( $post );\n\t\tif ( ! $post ) {{\n\t\t\treturn '';\n\t\t}}\n"
                f"\t\t$html = sprintf( '<span class=\"%s\">%s</span>', esc_attr( '{a}-{b}' ), "
                f"esc_html( get_the_title( $post ) ) );\n"
                f"\t\tif ( $echo ) {{\n\t\t\techo $html; // phpcs:ignore\n\t\t}}\n\t\treturn $html;\n\t}}\n"
                "}\n"
            )
        return (
            f"function {pfx}_{a}_{b}_sort( $items, $field = '{a}' ) {{\n"
            f"\tusort(\n\t\t$items,\n\t\tfunction ( $x, $y ) use ( $field ) {{\n"
            f"\t\t\treturn strcmp( (string) $x[ $field ], (string) $y[ $field ] );\n\t\t}}\n\t);\n"
            f"\treturn array_slice( $items, 0, {r.randint(5, 100)} );\n}}\n"
        )

    def _php_array(self) -> str:
        r, w = self.rng, self.w
        lines = [f"\t'{w()}_{w()}' => {self._php_scalar()}," for _ in range(r.randint(5, 40))]
        return f"${w()}_{w()}_defaults = array(\n" + "\n".join(lines) + "\n);\n"

    def _php_scalar(self) -> str:
        r = self.rng
        k = r.randrange(4)
        if k == 0:
            return str(r.randint(0, 10000))
        if k == 1:
            return r.choice(("true", "false", "null"))
        if k == 2:
            return (
                f"__( '{' '.join(r.choice(WORDS) for _ in range(r.randint(1, 6))).capitalize()}', 'default' )"
            )
        return f"'{r.choice(WORDS)}-{r.choice(WORDS)}'"

    def _php_template(self) -> str:
        r, w = self.rng, self.w
        a, b = w(), w()
        return (
            f'<section id="{a}-{b}" class="site-{a}">\n'
            f"\t<?php if ( have_posts() ) : ?>\n\t\t<?php while ( have_posts() ) : the_post(); ?>\n"
            f"\t\t\t<article id=\"post-<?php the_ID(); ?>\" <?php post_class( '{b}' ); ?>>\n"
            f'\t\t\t\t<h{r.randint(1, 4)} class="entry-title"><a href="<?php the_permalink(); ?>">'
            f"<?php the_title(); ?></a></h{r.randint(1, 4)}>\n"
            f"\t\t\t\t<?php get_template_part( 'template-parts/{a}', get_post_format() ); ?>\n"
            f'\t\t\t\t<div class="entry-summary"><?php the_excerpt(); ?></div>\n'
            f"\t\t\t</article>\n\t\t<?php endwhile; ?>\n"
            f"\t\t<?php the_posts_pagination( array( 'mid_size' => {r.randint(1, 3)} ) ); ?>\n"
            f"\t<?php else : ?>\n\t\t<p><?php esc_html_e( 'Nothing found.', '{b}' ); ?></p>\n"
            f"\t<?php endif; ?>\n</section>\n"
        )

    def _js_block(self) -> str:
        r, w = self.rng, self.w
        a, b, c = w(), w(), w()
        k = r.randrange(3)
        if k == 0:
            return (
                f"(function ($) {{\n\t'use strict';\n\t$(function () {{\n"
                f"\t\t$('.{a}-{b}').on('click', '.{c}-toggle', function (e) {{\n"
                f"\t\t\te.preventDefault();\n\t\t\tvar $el = $(this).closest('.{a}-item');\n"
                f"\t\t\t$el.toggleClass('is-open').find('.{c}-panel').slideToggle({r.randint(100, 400)});\n"
                f"\t\t}});\n\t}});\n}})(jQuery);\n"
            )
        if k == 1:
            return (
                f"export function {a}{camel(b)}(options) {{\n\tconst settings = Object.assign({{ {c}: "
                f"{r.randint(1, 99)}, delay: {r.randint(0, 900)} }}, options || {{}});\n"
                f"\treturn fetch('/wp-json/{a}/v1/{b}?per_page=' + settings.{c})\n"
                f"\t\t.then((res) => res.json())\n\t\t.then((items) => items.map((it) => it.{c}));\n}}\n"
            )
        # minified-looking line
        parts = [
            f"{r.choice('abcdefghijklmn')}.{w()}=function({r.choice('xyzt')}){{return {r.choice('xyzt')}&&"
            f"{r.choice('xyzt')}.{w()}||{r.randint(0, 999)}}}"
            for _ in range(r.randint(10, 40))
        ]
        return "!function(a,b){" + ";".join(parts) + "}(window,document);\n"

    def _css_block(self) -> str:
        r, w = self.rng, self.w
        props = [
            f"  margin: {r.randint(0, 40)}px {r.randint(0, 40)}px;",
            f"  padding: {r.randint(0, 3)}.{r.randint(0, 9)}em;",
            f"  color: #{r.randrange(0x1000000):06x};",
            f"  background-color: #{r.randrange(0x1000000):06x};",
            f"  font-size: {r.randint(10, 32)}px;",
            f"  display: {r.choice(('block', 'flex', 'grid', 'inline-block', 'none'))};",
            f"  border-radius: {r.randint(0, 12)}px;",
            f"  transition: opacity .{r.randint(1, 9)}s ease-in-out;",
        ]
        r.shuffle(props)
        sel = f".{w()}-{w()} .{w()}__{w()}"
        body = "\n".join(props[: r.randint(2, 8)])
        block = f"{sel} {{\n{body}\n}}\n"
        if r.random() < 0.2:
            block = f"@media (max-width: {r.choice((480, 600, 768, 1024))}px) {{\n{block}}}\n"
        return block

    def _sql_row(self, i: int) -> str:
        r, w = self.rng, self.w
        return (
            f"({i + 1},1,'20{r.randint(15, 24)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d} 10:00:00',"
            f"'{w()} {w()} {w()}','{' '.join(w() for _ in range(r.randint(5, 30)))}','publish','{w()}-{w()}')"
        )

    # -- whole files ------------------------------------------------------------------------------

    def php_class_file(self, size: int, namespace: str, cls: str) -> bytes:
        r = self.rng
        parts = [
            f"<?php\n/**\n * {cls} class.\n *\n * @package {namespace.split(chr(92))[0]}\n"
            f" * @since   {r.randint(1, 6)}.{r.randint(0, 9)}.{r.randint(0, 20)}\n */\n\n"
            f"namespace {namespace};\n\nif ( ! defined( 'ABSPATH' ) ) {{\n\texit; // Exit if accessed "
            "directly.\n}\n\n"
            f"class {cls} extends {camel(r.choice(WORDS))}Base {{\n\n"
            f"\tconst VERSION = '{r.randint(1, 9)}.{r.randint(0, 20)}.{r.randint(0, 40)}';\n\n"
            f"\tprotected $options = array();\n\n\tprivate $cache_key = '{cls.lower()}_cache';\n\n"
            f"\tpublic function __construct( array $options = array() ) {{\n"
            f"\t\t$this->options = wp_parse_args( $options, $this->defaults() );\n\t}}\n\n"
        ]
        n = len(parts[0])
        while n < size - 10:
            m = r.choice(self.php_methods)
            parts.append(m + "\n")
            n += len(m) + 1
        parts.append("}\n")
        return "".join(parts).encode()

    def php_functions_file(self, size: int, title: str) -> bytes:
        r = self.rng
        parts = [f"<?php\n/**\n * {title}\n *\n * @package WordPress\n */\n\n"]
        n = len(parts[0])
        while n < size:
            pool = r.choice((self.php_functions, self.php_functions, self.php_arrays))
            s = r.choice(pool) + "\n"
            parts.append(s)
            n += len(s)
        return "".join(parts).encode()

    def php_template_file(self, size: int, title: str) -> bytes:
        r = self.rng
        parts = [f"<?php\n/**\n * Template: {title}\n */\n\nget_header();\n?>\n"]
        n = len(parts[0])
        while n < size:
            s = r.choice(self.php_templates)
            parts.append(s)
            n += len(s)
        parts.append("<?php\nget_sidebar();\nget_footer();\n")
        return "".join(parts).encode()

    def js_file(self, size: int, name: str) -> bytes:
        r = self.rng
        parts = [f"/*! {name} v{r.randint(1, 5)}.{r.randint(0, 20)}.{r.randint(0, 9)} | MIT License */\n"]
        n = len(parts[0])
        while n < size:
            s = r.choice(self.js_blocks)
            parts.append(s)
            n += len(s)
        return "".join(parts).encode()

    def css_file(self, size: int, name: str) -> bytes:
        r = self.rng
        parts = [f"/*\nTheme Name: {name}\nVersion: {r.randint(1, 5)}.{r.randint(0, 9)}\n*/\n"]
        n = len(parts[0])
        while n < size:
            s = r.choice(self.css_blocks)
            parts.append(s)
            n += len(s)
        return "".join(parts).encode()

    def sql_dump(self, size: int) -> bytes:
        r = self.rng
        parts = ["-- MySQL dump 10.13\n--\n-- Host: localhost    Database: wp\n\n"]
        n = len(parts[0])
        while n < size:
            rows = ",".join(r.choice(self.sql_rows) for _ in range(50))
            s = f"INSERT INTO `wp_posts` VALUES {rows};\n"
            parts.append(s)
            n += len(s)
        return "".join(parts).encode()


def jpeg(rng: random.Random, size: int) -> bytes:
    head = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x01\x00H\x00H\x00\x00\xff\xdb\x00C\x00"
    return head + rng.randbytes(max(0, size - len(head) - 2)) + b"\xff\xd9"


def png(rng: random.Random, size: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    w, h = rng.randint(16, 2000), rng.randint(16, 2000)
    head = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
    body = rng.randbytes(max(0, size - len(head) - 24))
    return head + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def gif(rng: random.Random, size: int) -> bytes:
    head = b"GIF89a" + struct.pack("<HH", rng.randint(1, 800), rng.randint(1, 800)) + b"\xf7\x00\x00"
    return head + rng.randbytes(max(0, size - len(head) - 1)) + b";"


# -- planted samples ------------------------------------------------------------------------------
# Minimal, self-written snippets in the style of common webshells. Each kind is one technique;
# the benchmark reports per kind whether fim (and yara with the same rules) found it.


def _param(rng: random.Random) -> str:
    return rng.choice(("k", "c", "cmd", "x", "p", "pass", "z", "q", "_", "data"))


def _sample_eval_post(rng):
    return "php", f"<?php @eval($_POST['{_param(rng)}']);\n".encode()


def _sample_system_get(rng):
    return "php", f"<?php system($_GET['{_param(rng)}']); ?>\n".encode()


def _sample_base64_eval(rng):
    p = _param(rng)
    if rng.random() < 0.5:
        return "php", f"<?php eval(base64_decode($_REQUEST['{p}']));\n".encode()
    return "php", (f"<?php\n$k = $_COOKIE['{p}'];\n$c = base64_decode(str_rot13($k));\neval($c);\n").encode()


def _sample_gif_php(rng):
    head = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00"
    ext = rng.choice(("php", "gif", "phtml"))
    return ext, head + f"\n<?php eval($_REQUEST['{_param(rng)}']); ?>\n".encode()


def _sample_htaccess(rng):
    ext = rng.choice((".jpg", ".png", ".gif"))
    return ".htaccess", (
        f'<FilesMatch "\\{ext}$">\n  SetHandler none\n</FilesMatch>\nAddType application/x-httpd-php {ext}\n'
    ).encode()


def _sample_request_call(rng):
    return "php", b"<?php $_GET['f']($_GET['a']);\n"


def _sample_split_assert(rng):
    return "php", f"<?php $f = 'as'.'sert'; $f(stripslashes($_POST['{_param(rng)}']));\n".encode()


def _sample_preg_e(rng):
    return "php", f"<?php preg_replace('/.*/e', $_POST['{_param(rng)}'], '.');\n".encode()


def _sample_include_input(rng):
    return "php", b"<?php include 'php://input';\n"


def _sample_shell_exec(rng):
    return "php", f"<?php echo '<pre>' . shell_exec($_REQUEST['{_param(rng)}']) . '</pre>';\n".encode()


SAMPLE_KINDS = {
    # the first five are the techniques the benchmark brief names; the rest widen coverage
    "eval_post": _sample_eval_post,
    "system_get": _sample_system_get,
    "base64_eval": _sample_base64_eval,
    "gif_header_php": _sample_gif_php,
    "htaccess_addtype": _sample_htaccess,
    "request_as_function": _sample_request_call,
    "split_assert": _sample_split_assert,
    "preg_replace_e": _sample_preg_e,
    "include_php_input": _sample_include_input,
    "shell_exec_request": _sample_shell_exec,
}


# -- the tree -------------------------------------------------------------------------------------


@dataclass
class Site:
    customer: str
    budget: int
    php_dirs: list[str] = field(default_factory=list)
    js_dirs: list[str] = field(default_factory=list)
    css_dirs: list[str] = field(default_factory=list)
    misc_dirs: list[str] = field(default_factory=list)
    upload_dirs: list[tuple[str, int, int]] = field(default_factory=list)  # (dir, year, month)


class Generator:
    def __init__(self, out: Path, files: int, seed: int, planted: int):
        if files < 50:
            raise ValueError("--files must be at least 50")
        if planted > files // 10:
            raise ValueError("--planted must be at most a tenth of --files")
        self.out = out
        self.n_files = files
        self.n_planted = planted
        self.seed = seed
        self.rng = random.Random(seed)
        self.pools = ContentPools(random.Random(seed * 7919 + 1))
        self.used: set[str] = set()
        self.written = 0
        self.bytes = 0
        self.sizes: list[int] = []
        self.now = 1_718_000_000  # fixed "now" (June 2024) for timestamps: deterministic

    # -- helpers --

    def unique(self, directory: str, name: str) -> str:
        path = f"{directory}/{name}"
        if path not in self.used:
            self.used.add(path)
            return path
        stem, dot, ext = name.rpartition(".")
        if not dot or not stem:
            stem, ext = name, ""
        n = 2
        while True:
            cand = f"{directory}/{stem}-{n}{'.' + ext if ext else ''}"
            if cand not in self.used:
                self.used.add(cand)
                return cand
            n += 1

    def write(self, rel: str, data: bytes, mtime: int | None = None) -> None:
        target = self.out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as fh:
            fh.write(data)
        if mtime is None:
            mtime = self.now - self.rng.randint(86400, 5 * 365 * 86400)
        os.utime(target, (mtime, mtime))
        self.used.add(rel)
        self.written += 1
        self.bytes += len(data)
        self.sizes.append(len(data))

    # -- layout --

    def customers(self) -> list[Site]:
        r = self.rng
        n = max(2, round(self.n_files / 1500))
        names: list[str] = []
        i = 0
        while len(names) < n:
            base = CUSTOMER_NAMES[i % len(CUSTOMER_NAMES)]
            names.append(base if i < len(CUSTOMER_NAMES) else f"{base}{i // len(CUSTOMER_NAMES) + 1}")
            i += 1
        # Pareto-like weights: a few big sites, many small ones.
        weights = [r.paretovariate(1.3) for _ in names]
        total = sum(weights)
        budgets = [max(20, int(self.n_files * w / total)) for w in weights]
        # Fix rounding so the budgets sum to the benign file count exactly.
        target = self.n_files - self.n_planted - self.n_large()
        diff = target - sum(budgets)
        order = sorted(range(n), key=lambda k: -budgets[k])
        k = 0
        while diff != 0:
            j = order[k % n]
            step = 1 if diff > 0 else -1
            if budgets[j] + step >= 20:
                budgets[j] += step
                diff -= step
            k += 1
        return [self.layout(name, b) for name, b in zip(names, budgets, strict=True)]

    def n_large(self) -> int:
        return max(1, self.n_files // 2500)

    def layout(self, customer: str, budget: int) -> Site:
        r = self.rng
        site = Site(customer, budget)
        root = f"home/{customer}/public_html"
        core = [
            "wp-admin", "wp-admin/includes", "wp-admin/network", "wp-admin/user", "wp-includes",
            "wp-includes/rest-api/endpoints", "wp-includes/blocks", "wp-includes/widgets",
            "wp-includes/Requests/src/Transport", "wp-includes/SimplePie/Cache", "wp-includes/customize",
        ]  # fmt: skip
        site.php_dirs += [f"{root}/{d}" for d in core]
        site.js_dirs += [f"{root}/wp-includes/js", f"{root}/wp-includes/js/dist", f"{root}/wp-admin/js"]
        site.css_dirs += [f"{root}/wp-includes/css", f"{root}/wp-admin/css"]
        n_plugins = min(len(PLUGIN_NAMES), 1 + budget // 300)
        for plugin in r.sample(PLUGIN_NAMES, n_plugins):
            p = f"{root}/wp-content/plugins/{plugin}"
            site.php_dirs += [p, f"{p}/includes", f"{p}/admin", f"{p}/includes/{r.choice(WORDS)}"]
            if r.random() < 0.5:
                v = r.choice(VENDORS)
                site.php_dirs += [f"{p}/vendor/{v}/{r.choice(WORDS)}/src/{camel(r.choice(WORDS))}"]
            site.js_dirs.append(f"{p}/assets/js")
            site.css_dirs.append(f"{p}/assets/css")
            site.misc_dirs += [f"{p}/languages", p]
        for theme in r.sample(THEME_NAMES, r.randint(1, 3)):
            t = f"{root}/wp-content/themes/{theme}"
            site.php_dirs += [t, f"{t}/template-parts", f"{t}/inc"]
            site.js_dirs.append(f"{t}/assets/js")
            site.css_dirs.append(f"{t}/assets/css")
            site.misc_dirs.append(t)
        start = r.randint(2012, 2022)
        for year in range(start, 2025):
            for month in range(1, 13):
                if year == 2024 and month > 6:
                    break
                site.upload_dirs.append((f"{root}/wp-content/uploads/{year}/{month:02d}", year, month))
        return site

    # -- files --

    def benign_file(self, site: Site) -> None:
        r, pools = self.rng, self.pools
        roll = r.random()
        if roll < 0.44:  # PHP
            d = r.choice(site.php_dirs)
            size = lognormal_size(r, 6 * KiB, 1.0, 200, 300 * KiB)
            a, b = r.choice(WORDS), r.choice(WORDS)
            k = r.random()
            if k < 0.08:
                rel, data = self.unique(d, "index.php"), b"<?php\n// Silence is golden.\n"
            elif "/src/" in d or k < 0.55:
                cls = camel(a, b)
                name = f"{cls}.php" if "/src/" in d else f"class-{a}-{b}.php"
                ns = "\\".join(camel(p.replace("-", "_")) for p in d.split("/")[-2:])
                rel, data = self.unique(d, name), pools.php_class_file(size, ns, cls)
            elif "/themes/" in d and k < 0.8:
                rel, data = self.unique(d, f"{a}-{b}.php"), pools.php_template_file(size, f"{a} {b}")
            else:
                rel, data = (
                    self.unique(d, f"{a}-{b}.php"),
                    pools.php_functions_file(size, f"{a} {b} functions"),
                )
        elif roll < 0.56:  # JS
            d = r.choice(site.js_dirs)
            size = lognormal_size(r, 8 * KiB, 1.1, 300, 900 * KiB)
            name = f"{r.choice(WORDS)}{r.choice(('.js', '.min.js'))}"
            rel, data = self.unique(d, name), pools.js_file(size, name)
        elif roll < 0.61:  # CSS
            d = r.choice(site.css_dirs)
            size = lognormal_size(r, 5 * KiB, 1.0, 200, 400 * KiB)
            name = f"{r.choice(WORDS)}{r.choice(('.css', '.min.css'))}"
            rel, data = self.unique(d, name), pools.css_file(size, name)
        elif roll < 0.93:  # uploads: images and thumbnails
            d, year, month = r.choice(site.upload_dirs)
            size = lognormal_size(r, 22 * KiB, 1.1, 600, 3 * MiB)
            stem = r.choice(
                (f"{r.choice(NOUNS)}-{r.choice(NOUNS)}", f"IMG_{r.randint(1000, 9999)}", f"{r.choice(NOUNS)}")
            )
            if r.random() < 0.4:
                stem += f"-{r.choice((150, 300, 768, 1024))}x{r.choice((150, 200, 576, 683))}"
            kind = r.random()
            if kind < 0.6:
                rel, data = self.unique(d, f"{stem}.jpg"), jpeg(r, size)
            elif kind < 0.9:
                rel, data = self.unique(d, f"{stem}.png"), png(r, size)
            else:
                rel, data = self.unique(d, f"{stem}.gif"), gif(r, size)
            mtime = calendar.timegm((year, month, r.randint(1, 28), 12, 0, 0))
            self.write(rel, data, mtime)
            return
        else:  # misc: translations, readmes, json, svg, fonts
            d = r.choice(site.misc_dirs)
            size = lognormal_size(r, 3 * KiB, 1.0, 100, 200 * KiB)
            kind = r.randrange(5)
            w = r.choice(WORDS)
            if kind == 0:
                lines = [
                    f'msgid "{r.choice(WORDS)} {r.choice(WORDS)}"\nmsgstr "{r.choice(NOUNS)}"\n'
                    for _ in range(size // 40 + 1)
                ]
                rel, data = self.unique(d, f"{w}-de_DE.po"), "\n".join(lines).encode()
            elif kind == 1:
                rel, data = self.unique(d, f"{w}-de_DE.mo"), b"\xde\x12\x04\x95" + r.randbytes(size)
            elif kind == 2:
                text = f"=== {w} ===\nContributors: {r.choice(CUSTOMER_NAMES)}\n"
                text += f"Stable tag: 1.{r.randint(0, 9)}\n\n"
                text += " ".join(r.choice(WORDS) for _ in range(size // 7))
                rel, data = self.unique(d, "readme.txt"), text.encode()
            elif kind == 3:
                doc = {"name": f"{r.choice(VENDORS)}/{w}", "version": f"1.{r.randint(0, 9)}.0",
                       "keywords": [r.choice(WORDS) for _ in range(size // 12 + 1)]}  # fmt: skip
                rel, data = self.unique(d, f"{w}.json"), json.dumps(doc, indent=2).encode()
            else:
                rel, data = self.unique(d, f"{w}.woff2"), b"wOF2" + r.randbytes(size)
        self.write(rel, data)

    def fixed_files(self, site: Site) -> int:
        """index.php, wp-config.php and .htaccess files: returns how many were written."""
        r = self.rng
        root = f"home/{site.customer}/public_html"
        self.write(
            f"{root}/index.php",
            b"<?php\ndefine( 'WP_USE_THEMES', true );\nrequire __DIR__ . '/wp-blog-header.php';\n",
        )
        salt = "".join(r.choice("abcdefghijklmnopqrstuvwxyz0123456789!@#%^&*") for _ in range(64))
        self.write(
            f"{root}/wp-config.php",
            (
                f"<?php\ndefine( 'DB_NAME', '{site.customer}_wp' );\ndefine( 'DB_USER', "
                f"'{site.customer}_wp' );\n"
                f"define( 'DB_PASSWORD', '{r.randbytes(12).hex()}' );\ndefine( 'DB_HOST', 'localhost' );\n"
                f"define( 'AUTH_KEY', '{salt}' );\n$table_prefix = 'wp_';\ndefine( 'WP_DEBUG', false );\n"
                "if ( ! defined( 'ABSPATH' ) ) {\n\tdefine( 'ABSPATH', __DIR__ . '/' );\n}\n"
                "require_once ABSPATH . 'wp-settings.php';\n"
            ).encode(),
        )
        self.write(
            f"{root}/.htaccess",
            b"# BEGIN WordPress\n<IfModule mod_rewrite.c>\nRewriteEngine On\nRewriteBase /\n"
            b"RewriteRule ^index\\.php$ - [L]\nRewriteCond %{REQUEST_FILENAME} !-f\n"
            b"RewriteCond %{REQUEST_FILENAME} !-d\nRewriteRule . /index.php [L]\n</IfModule>\n# END "
            b"WordPress\n",
        )
        self.write(
            f"{root}/wp-content/uploads/.htaccess",
            b"# Disable PHP in uploads\n<Files *.php>\n  Require all denied\n</Files>\nOptions -Indexes\n",
        )
        return 4

    def large_files(self, sites: list[Site]) -> None:
        r = self.rng
        for _ in range(self.n_large()):
            site = r.choice(sites)
            size = lognormal_size(r, 6 * MiB, 0.6, 2 * MiB, 24 * MiB)  # below fim's 32M match limit
            kind = r.randrange(3)
            date = f"20{r.randint(19, 24)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"
            if kind == 0:
                d = f"home/{site.customer}/backups"
                rel, data = self.unique(d, f"public_html-{date}.zip"), b"PK\x03\x04" + r.randbytes(size)
            elif kind == 1:
                d = f"home/{site.customer}/backups"
                rel, data = self.unique(d, f"db-{site.customer}-{date}.sql"), self.pools.sql_dump(size)
            else:
                d, _, _ = r.choice(site.upload_dirs)
                head = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
                rel, data = self.unique(d, f"{r.choice(NOUNS)}-video.mp4"), head + r.randbytes(size)
            self.write(rel, data)

    def plant(self, sites: list[Site]) -> list[dict]:
        r = self.rng
        kinds = list(SAMPLE_KINDS)
        planted = []
        for i in range(self.n_planted):
            kind = kinds[i % len(kinds)]
            site = r.choice(sites)
            d, year, month = r.choice(site.upload_dirs)
            ext, data = SAMPLE_KINDS[kind](r)
            if ext == ".htaccess":
                if f"{d}/.htaccess" in self.used:
                    d, year, month = next(u for u in site.upload_dirs if f"{u[0]}/.htaccess" not in self.used)
                name = ".htaccess"
            else:
                stem = r.choice(
                    (f"{r.choice(NOUNS)}-{r.randint(1, 99)}", "wp-cache", "index", ".cache",
                     f"IMG_{r.randint(1000, 9999)}", f"{r.choice(WORDS)}-{r.choice(WORDS)}")
                )  # fmt: skip
                name = f"{stem}.{ext}"
            rel = self.unique(d, name)
            self.write(rel, data, calendar.timegm((year, month, r.randint(1, 28), 3, 0, 0)))
            planted.append({"path": rel, "kind": kind, "size": len(data)})
        return planted

    def run(self) -> dict:
        started = time.monotonic()
        sites = self.customers()
        for site in sites:
            fixed = self.fixed_files(site)
            for _ in range(site.budget - fixed):
                self.benign_file(site)
        self.large_files(sites)
        planted = self.plant(sites)
        sizes = sorted(self.sizes)
        return {
            "format": MANIFEST_FORMAT,
            "generator": "benchmarks/gentree.py",
            "params": {"files": self.n_files, "seed": self.seed, "planted": self.n_planted},
            "files": self.written,
            "bytes": self.bytes,
            "size_median": sizes[len(sizes) // 2],
            "size_p90": sizes[int(len(sizes) * 0.9)],
            "size_max": sizes[-1],
            "files_1k_50k": sum(1 for s in sizes if KiB <= s <= 50 * KiB),
            "files_over_1m": sum(1 for s in sizes if s > MiB),
            "customers": [s.customer for s in sites],
            "planted": planted,
            "generation_s": round(time.monotonic() - started, 2),
        }


def manifest_path(out: Path) -> Path:
    return out.parent / f"{out.name}.manifest.json"


def generate(out: Path, files: int, seed: int, planted: int, manifest: Path | None = None) -> dict:
    """Create the tree in ``out`` (which must not exist or be empty) and write its manifest."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out.name}: output folder exists and is not empty")
    out.mkdir(parents=True, exist_ok=True)
    doc = Generator(out, files, seed, planted).run()
    target = manifest or manifest_path(out)
    target.write_text(json.dumps(doc, indent=1) + "\n")
    return doc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir", type=Path, help="folder to create (must not exist or be empty)")
    ap.add_argument("--files", type=int, default=20000, help="total number of files [20000]")
    ap.add_argument("--seed", type=int, default=1, help="random seed [1]")
    ap.add_argument("--planted", type=int, default=20, help="webshell-like samples to plant [20]")
    ap.add_argument("--manifest", type=Path, help="manifest JSON [OUTDIR.manifest.json, beside OUTDIR]")
    args = ap.parse_args(argv)
    try:
        doc = generate(args.outdir, args.files, args.seed, args.planted, args.manifest)
    except (ValueError, FileExistsError) as exc:
        print(f"gentree: error: {exc}", file=sys.stderr)
        return 2
    print(
        f"gentree: {doc['files']} files, {doc['bytes'] / MiB:.1f} MiB, {len(doc['customers'])} customers, "
        f"{len(doc['planted'])} planted, {doc['generation_s']} s; manifest "
        f"{(args.manifest or manifest_path(args.outdir)).name}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
