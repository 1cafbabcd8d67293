import { mount } from 'svelte';
import App from './App.svelte';
import './styles.css';
import './styles/workspace.css';
import './styles/history.css';
import './styles/models.css';
import './styles/projects.css';
import './styles/reflection.css';
import './styles/chat.css';
import './styles/reflow.css';

mount(App, { target: document.getElementById('app')! });
