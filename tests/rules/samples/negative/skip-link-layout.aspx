<%@ Page Language="C#" %>
<style>.sr-only { position: absolute; left: -9999px; top: -9999px; }</style>
<a class="sr-only" href="#main">Skip to content</a>
<nav><a href="https://example.org/docs">Docs</a> <a href="https://example.org/blog">Blog</a>
<a href="https://example.org/shop">Shop</a> <a href="https://example.org/help">Help</a>
<a href="https://example.org/about">About</a></nav>
<main id="main"><img src="/logo.png" onerror="this.style.display='none'"></main>
