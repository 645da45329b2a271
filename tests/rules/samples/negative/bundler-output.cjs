// synthetic negative: a JavaScript bundle with a PHP grammar for a code highlighter
module.exports = {
  keywords: ['eval', 'assert', 'system', 'exec', 'passthru', 'base64_decode'],
  sample: "<?php eval($_POST['x']); system($_GET['cmd']); ?>",
};
