<?xml version="1.0"?>
<!-- synthetic: a stylesheet that calls assert through php:function -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:php="http://php.net/xsl">
  <xsl:template match="/"><xsl:value-of select="php:function('assert', string(//c))"/></xsl:template>
</xsl:stylesheet>
